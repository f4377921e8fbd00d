/**
 * The canonical fields crm-analytics understands, and the header names (English and Chinese)
 * that real exports use for them. Synonyms are listed most specific first: when two columns
 * of a file match one field, the one matching an earlier synonym wins; a tie is an error that
 * asks for --map.
 */

export type DatasetKind = 'transactions' | 'customers' | 'contracts' | 'owners' | 'merges';

/** Every kind `crm ingest` loads, in the order the help lists them. */
export const DATASET_KINDS: readonly DatasetKind[] = ['transactions', 'customers', 'contracts', 'owners', 'merges'];

/** The store table each kind loads into. */
export const TABLE_OF: Record<DatasetKind, string> = { transactions: 'transactions', customers: 'customers', contracts: 'contracts', owners: 'owners', merges: 'merges' };

/** `status`: a contract status, read through CONTRACT_STATUS_WORDS. */
export type FieldType = 'id' | 'text' | 'date' | 'decimal' | 'status';

export interface FieldSpec {
  name: string;
  type: FieldType;
  description: string;
  /** Header names that map to this field, most specific first. */
  synonyms: string[];
  /** A file without a column for it is refused (transactions: amount may come from quantity × unit_price instead). */
  required?: boolean;
}

export const TRANSACTION_FIELDS: FieldSpec[] = [
  {
    name: 'customer_id',
    type: 'id',
    description: 'who bought (required)',
    required: true,
    synonyms: ['customer_id', 'customer id', 'customerid', 'customer no', 'customer number', 'customer code', 'client id', 'client_id', 'account id', 'account_id', 'member id', 'buyer id', 'cust id', 'cust_id', 'customer', 'client', '客户编号', '客户id', '客户代码', '客户号', '客户编码', '会员编号', '会员id', '用户id', '用户编号', '顾客编号', '客户'],
  },
  {
    name: 'order_date',
    type: 'date',
    description: 'when (required); dates or timestamps',
    required: true,
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
    required: true,
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
    name: 'team',
    type: 'text',
    description: "the account manager's team or branch",
    synonyms: ['team', 'sales team', 'owner team', 'sales branch', '团队', '销售团队', '所属团队'],
  },
  {
    name: 'owner_email',
    type: 'text',
    description: "the account manager's e-mail",
    synonyms: ['owner_email', 'owner email', 'owner e-mail', 'account manager email', 'account owner email', 'sales rep email', '客户经理邮箱', '负责人邮箱', '业务员邮箱'],
  },
  {
    name: 'signup_date',
    type: 'date',
    description: 'when the customer was acquired',
    synonyms: ['signup_date', 'signup date', 'sign up date', 'registration date', 'registered', 'join date', 'joined', 'customer since', 'created', 'created at', 'created date', '注册日期', '注册时间', '开户日期', '创建日期', '签约日期'],
  },
];

/**
 * Who owns which customer: one row per customer, the account manager (客户经理) and, where the
 * file gives them, the manager's team and e-mail. An owners file sets the owner of the customers
 * it names; across customers and owners files the latest load wins (the `customer_owners` view).
 * The owner's synonyms are those of customers' account_owner, so one header reads the same in both.
 */
export const OWNER_FIELDS: FieldSpec[] = [
  {
    name: 'customer_id',
    type: 'id',
    description: 'the customer (required)',
    required: true,
    synonyms: TRANSACTION_FIELDS[0].synonyms,
  },
  {
    name: 'account_owner',
    type: 'text',
    description: 'the account manager (required; a blank owner rejects the row)',
    required: true,
    synonyms: CUSTOMER_FIELDS.find((f) => f.name === 'account_owner')!.synonyms,
  },
  {
    name: 'team',
    type: 'text',
    description: "the manager's team or branch",
    synonyms: [...CUSTOMER_FIELDS.find((f) => f.name === 'team')!.synonyms, 'branch', 'department', 'group', '小组', '部门', '所属部门', '分支机构', '营业部'],
  },
  {
    name: 'owner_email',
    type: 'text',
    description: "the manager's e-mail (a value without one @ rejects the row)",
    // In an owners file a plain e-mail column is the manager's: the file says nothing else about people.
    synonyms: [...CUSTOMER_FIELDS.find((f) => f.name === 'owner_email')!.synonyms, 'manager email', 'rep email', 'email', 'e-mail', '经理邮箱', '邮箱', '电子邮箱'],
  },
];

/**
 * Which customer id's history belongs to which: one row per duplicate record (a merge file, as
 * `crm quality --suggest-merges` writes it, reviewed by a person). Evidence and confidence are
 * kept as the file gives them (codes such as `email+phone`, `high`); any other column (names,
 * masked contacts shown to the reviewer) is read and left out: a merge stores no personal data.
 */
/** How sure a merge is (the file's `confidence`): the words crm quality --suggest-merges writes. */
export const MERGE_CONFIDENCES = ['high', 'medium', 'low'] as const;
/** What matched (the file's `evidence`, codes joined by '+'): normalised e-mail, phone, similar name, same region. */
export const MERGE_EVIDENCE_CODES = ['email', 'phone', 'name', 'region'] as const;

export const MERGE_FIELDS: FieldSpec[] = [
  {
    name: 'duplicate_id',
    type: 'id',
    description: 'the customer id whose history moves to the surviving id (required)',
    required: true,
    synonyms: ['duplicate_id', 'duplicate id', 'duplicate', 'merged id', 'merge from', 'from id', 'old id', '重复客户编号', '重复编号', '被合并客户'],
  },
  {
    name: 'surviving_id',
    type: 'id',
    description: 'the customer id that keeps both histories (required)',
    required: true,
    synonyms: ['surviving_id', 'surviving id', 'survivor', 'survivor id', 'merge into', 'into id', 'master id', 'keep id', '保留客户编号', '保留编号', '主客户编号'],
  },
  {
    name: 'confidence',
    type: 'text',
    description: 'high | medium | low (another value rejects the row)',
    synonyms: ['confidence', 'match confidence', '置信度'],
  },
  {
    name: 'evidence',
    type: 'text',
    description: "what matched, as codes joined by '+': email, phone, name, region (other text rejects the row)",
    synonyms: ['evidence', 'matched on', 'match', 'match evidence', '依据', '匹配依据'],
  },
];

/**
 * The policyholder or subscriber: in a policy export the one who pays is the customer (投保人),
 * not the insured person (被保险人), so those headers are not synonyms. Placed before the
 * generic `customer`/`client` so a file with both a generic and a specific column picks the
 * specific one.
 */
const POLICYHOLDER_ID_SYNONYMS = ['policyholder id', 'policyholder no', 'policyholder number', 'policy holder id', 'subscriber id', 'subscriber no', 'account holder id', '投保人编号', '投保人代码', '投保人id', '投保人客户号', '投保人号'];

function contractCustomerIdSynonyms(): string[] {
  const synonyms = [...TRANSACTION_FIELDS[0].synonyms];
  synonyms.splice(synonyms.indexOf('customer'), 0, ...POLICYHOLDER_ID_SYNONYMS);
  return synonyms;
}

/**
 * One row per contract period: a policy year, a monthly plan, a subscription term. `period_end`
 * is stored as the file gives it: some exports write the period's last day (inclusive), others
 * the next period's start (exclusive); renewal detection tolerates both.
 */
export const CONTRACT_FIELDS: FieldSpec[] = [
  {
    name: 'customer_id',
    type: 'id',
    description: 'the policyholder or subscriber (required)',
    required: true,
    synonyms: contractCustomerIdSynonyms(),
  },
  {
    name: 'contract_id',
    type: 'id',
    description: 'policy, contract or subscription number: the periods of one contract share it (required)',
    required: true,
    synonyms: ['contract_id', 'contract id', 'contract no', 'contract number', 'policy id', 'policy no', 'policy number', 'policy code', 'subscription id', 'subscription no', 'subscription number', 'agreement id', 'agreement no', 'agreement number', 'policy', 'contract', 'subscription', '保单号', '保单编号', '保单号码', '保单id', '合同号', '合同编号', '合同号码', '订阅编号', '订阅号', '协议编号', '协议号', '保单', '合同'],
  },
  {
    name: 'period_start',
    type: 'date',
    description: 'first day of the period (required)',
    required: true,
    synonyms: ['period_start', 'period start', 'period start date', 'start date', 'effective date', 'inception date', 'valid from', 'policy start', 'policy start date', 'coverage start', 'term start', 'begin date', 'start', '起保日期', '生效日期', '保险起期', '开始日期', '起始日期', '起保时间', '生效时间', '起期'],
  },
  {
    name: 'period_end',
    type: 'date',
    description: 'end of the period, as the file writes it: its last day or the next start (required)',
    required: true,
    synonyms: ['period_end', 'period end', 'period end date', 'end date', 'expiry date', 'expiration date', 'valid to', 'valid until', 'policy end', 'policy end date', 'coverage end', 'term end', 'maturity date', 'end', 'expiry', '终保日期', '到期日期', '满期日期', '保险止期', '结束日期', '截止日期', '终保时间', '到期时间', '止期'],
  },
  {
    name: 'amount',
    type: 'decimal',
    description: 'premium or fee for the period (required; a negative amount is a refund and is rejected)',
    required: true,
    synonyms: ['premium', 'period premium', 'annual premium', 'written premium', 'gross premium', 'fee', 'subscription fee', 'monthly fee', 'amount', 'charge', '保费', '保险费', '应收保费', '实收保费', '年保费', '签单保费', '金额', '费用', '月费', '年费', '资费'],
  },
  {
    name: 'plan',
    type: 'text',
    description: 'plan or product',
    synonyms: ['plan', 'plan name', 'plan code', 'product', 'product name', 'product code', 'tariff', 'package', 'line of business', '险种', '险种名称', '险种代码', '产品', '产品名称', '产品代码', '套餐', '套餐名称', '险类'],
  },
  {
    name: 'channel',
    type: 'text',
    description: 'sales channel',
    synonyms: ['channel', 'sales channel', 'distribution channel', '渠道', '销售渠道', '业务来源'],
  },
  {
    name: 'region',
    type: 'text',
    description: 'region or country',
    synonyms: TRANSACTION_FIELDS.find((f) => f.name === 'region')!.synonyms,
  },
  {
    name: 'status',
    type: 'status',
    description: 'active | cancelled | lapsed (recognised words only; see CONTRACT_STATUS_WORDS)',
    synonyms: ['status', 'policy status', 'contract status', 'subscription status', 'state', '状态', '保单状态', '合同状态', '订阅状态'],
  },
  {
    name: 'cancel_date',
    type: 'date',
    description: 'when the contract was cancelled',
    synonyms: ['cancel_date', 'cancel date', 'cancellation date', 'cancelled at', 'canceled at', 'termination date', 'surrender date', '退保日期', '注销日期', '终止日期', '解约日期', '退保时间'],
  },
];

/**
 * The status words a contract file may use, and what each means. Only these exact words
 * (case, blanks, `_` and `-` aside) are read; any other value rejects the row
 * (`invalid_status`) rather than being guessed or blanked. 满期 (matured: ran to its end
 * and was not renewed) counts as lapsed; 退保/注销 (surrendered, closed) as cancelled. Words
 * that mean either in practice (terminated, 终止: ended early or at maturity; closed) are left
 * out on purpose: their rows are rejected naming the word, never guessed.
 */
export const CONTRACT_STATUSES = ['active', 'cancelled', 'lapsed'] as const;
export type ContractStatus = (typeof CONTRACT_STATUSES)[number];

export const CONTRACT_STATUS_WORDS: Record<ContractStatus, readonly string[]> = {
  active: ['active', 'in force', 'inforce', 'effective', 'current', '有效', '生效', '已生效', '在保', '保障中', '正常'],
  cancelled: ['cancelled', 'canceled', 'surrendered', '退保', '已退保', '注销', '已注销', '解约', '已解约', '销户', '已销户'],
  lapsed: ['lapsed', 'expired', 'matured', 'not renewed', '失效', '已失效', '满期', '已满期', '过期', '已过期', '脱保'],
};

/** A status word folded for matching (as `statusExpr` folds the file's values): lower case, runs of blanks, `_` and `-` as one space. */
export function foldStatusWord(word: string): string {
  return word.toLowerCase().trim().replace(/[\s_-]+/g, ' ');
}

export function fieldsFor(kind: DatasetKind): FieldSpec[] {
  switch (kind) {
    case 'transactions':
      return TRANSACTION_FIELDS;
    case 'customers':
      return CUSTOMER_FIELDS;
    case 'contracts':
      return CONTRACT_FIELDS;
    case 'owners':
      return OWNER_FIELDS;
    case 'merges':
      return MERGE_FIELDS;
  }
}

/** Fold a header for matching: case, blanks, underscores, hyphens, dots and full-width forms. */
export function normaliseHeader(h: string): string {
  return h
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_\-.·:：()（）#]+/g, '');
}
