/**
 * The canonical fields crm-analytics understands, and the header names (English and Chinese)
 * that real exports use for them. Synonyms are listed most specific first: when two columns
 * of a file match one field, the one matching an earlier synonym wins; a tie is an error that
 * asks for --map.
 */

export type DatasetKind = 'transactions' | 'customers';

export type FieldType = 'id' | 'text' | 'date' | 'decimal';

export interface FieldSpec {
  name: string;
  type: FieldType;
  description: string;
  /** Header names that map to this field, most specific first. */
  synonyms: string[];
}

export const TRANSACTION_FIELDS: FieldSpec[] = [
  {
    name: 'customer_id',
    type: 'id',
    description: 'who bought (required)',
    synonyms: ['customer_id', 'customer id', 'customerid', 'customer no', 'customer number', 'customer code', 'client id', 'client_id', 'account id', 'account_id', 'member id', 'buyer id', 'cust id', 'cust_id', 'customer', 'client', '客户编号', '客户id', '客户代码', '客户号', '客户编码', '会员编号', '会员id', '用户id', '用户编号', '顾客编号', '客户'],
  },
  {
    name: 'order_date',
    type: 'date',
    description: 'when (required); dates or timestamps',
    synonyms: ['order_date', 'order date', 'orderdate', 'invoice date', 'invoicedate', 'transaction date', 'purchase date', 'order time', 'order datetime', 'sale date', 'created at', 'date', '下单日期', '订单日期', '下单时间', '交易日期', '交易时间', '购买日期', '订单时间', '销售日期', '日期'],
  },
  {
    name: 'amount',
    type: 'decimal',
    description: 'line or order value, negative for returns (or give quantity and unit_price)',
    synonyms: ['amount', 'line amount', 'line total', 'total amount', 'order amount', 'net amount', 'sales amount', 'total', 'revenue', 'sales', 'value', '金额', '订单金额', '交易金额', '销售金额', '实付金额', '总金额', '销售额', '合计'],
  },
  {
    name: 'quantity',
    type: 'decimal',
    description: 'units on the line',
    synonyms: ['quantity', 'qty', 'units', 'quantity ordered', '数量', '件数', '销量'],
  },
  {
    name: 'unit_price',
    type: 'decimal',
    description: 'price per unit',
    synonyms: ['unit_price', 'unit price', 'unitprice', 'price', 'price each', '单价', '价格'],
  },
  {
    name: 'order_id',
    type: 'id',
    description: 'rows sharing it are one order',
    synonyms: ['order_id', 'order id', 'orderid', 'order no', 'order number', 'invoice', 'invoice no', 'invoiceno', 'invoice number', 'invoice id', 'transaction id', 'receipt', '订单编号', '订单号', '订单id', '单号', '发票号', '交易编号'],
  },
  {
    name: 'cost',
    type: 'decimal',
    description: 'cost of the line (gives margin)',
    synonyms: ['cost', 'line cost', 'cogs', 'cost of goods', '成本', '成本金额'],
  },
  {
    name: 'product',
    type: 'text',
    description: 'product code or name',
    synonyms: ['product', 'product id', 'product_id', 'product code', 'sku', 'stockcode', 'stock code', 'item', 'item code', 'product name', '产品', '商品', '产品编号', '商品编码', '商品编号', '产品名称', '商品名称'],
  },
  {
    name: 'category',
    type: 'text',
    description: 'product category',
    synonyms: ['category', 'product category', 'product line', '类别', '品类', '分类', '产品类别', '商品类别'],
  },
  {
    name: 'channel',
    type: 'text',
    description: 'sales channel',
    synonyms: ['channel', 'sales channel', '渠道', '销售渠道'],
  },
  {
    name: 'region',
    type: 'text',
    description: 'region or country of the sale',
    synonyms: ['region', 'country', 'area', 'territory', 'market', '地区', '区域', '国家', '省份', '城市'],
  },
];

export const CUSTOMER_FIELDS: FieldSpec[] = [
  {
    name: 'customer_id',
    type: 'id',
    description: 'the customer key (required)',
    synonyms: TRANSACTION_FIELDS[0].synonyms,
  },
  {
    name: 'name',
    type: 'text',
    description: 'person or company name',
    synonyms: ['name', 'customer name', 'client name', 'company', 'company name', 'account name', 'full name', '客户名称', '客户姓名', '公司名称', '名称', '姓名', '公司'],
  },
  {
    name: 'email',
    type: 'text',
    description: 'e-mail address',
    synonyms: ['email', 'e-mail', 'email address', 'e-mail address', 'mail', '邮箱', '电子邮件', '电子邮箱', '邮件'],
  },
  {
    name: 'phone',
    type: 'text',
    description: 'phone number',
    synonyms: ['phone', 'phone number', 'mobile', 'mobile phone', 'cell', 'telephone', 'tel', '手机', '手机号', '手机号码', '电话', '联系电话'],
  },
  {
    name: 'region',
    type: 'text',
    description: 'region or country',
    synonyms: ['region', 'country', 'area', 'territory', 'market', '地区', '区域', '国家', '省份', '城市'],
  },
  {
    name: 'industry',
    type: 'text',
    description: 'industry or sector',
    synonyms: ['industry', 'sector', 'vertical', '行业', '所属行业'],
  },
  {
    name: 'account_owner',
    type: 'text',
    description: 'the account manager',
    synonyms: ['account_owner', 'account owner', 'owner', 'account manager', 'key account manager', 'sales rep', 'salesperson', '客户经理', '负责人', '销售代表', '业务员'],
  },
  {
    name: 'signup_date',
    type: 'date',
    description: 'when the customer was acquired',
    synonyms: ['signup_date', 'signup date', 'sign up date', 'registration date', 'registered', 'join date', 'joined', 'customer since', 'created', 'created at', 'created date', '注册日期', '注册时间', '开户日期', '创建日期', '签约日期'],
  },
];

export function fieldsFor(kind: DatasetKind): FieldSpec[] {
  return kind === 'transactions' ? TRANSACTION_FIELDS : CUSTOMER_FIELDS;
}

/** Fold a header for matching: case, blanks, underscores, hyphens, dots and full-width forms. */
export function normaliseHeader(h: string): string {
  return h
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_\-.·:：()（）#]+/g, '');
}
