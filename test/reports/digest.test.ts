/**
 * The digest page (reports/digest.ts `digestHtml`) from hand-made data, no store: every value
 * escaped, no script and no external resource, the sections in English and Chinese, the
 * first-run wording, and the file names.
 */
import { describe, expect, it } from 'vitest';
import { digestFileName, digestHtml, type DigestData } from '../../src/reports/digest.js';

const HOSTILE = '<img src=x onerror=alert(1)>"\'&';

function data(over: Partial<DigestData> = {}): DigestData {
  return {
    owner: `Li ${HOSTILE}`,
    runs: { run_id: 2, previous_run_id: 1, as_of: '2025-12-31', previous_as_of: '2025-06-30', key_share: 0.8 },
    book: { owner: 'Li', team: `East${HOSTILE}`, customers: 3, key_accounts: 2, at_risk: 1, revenue: 1234.5, clv: 99, new_key_accounts: 1, new_at_risk: 1, lost: 1, owner_email: null },
    changes: [
      { customer_id: 'C1', name: `Acme ${HOSTILE}`, net_revenue: 900, new_key_account: true, became_at_risk: false, lost_key_account: false, reason: null },
      { customer_id: 'C2', name: null, net_revenue: 300, new_key_account: false, became_at_risk: true, lost_key_account: false, reason: `revenue down 40% ${HOSTILE}` },
      { customer_id: 'C3', name: 'Gone Ltd', net_revenue: 10, new_key_account: false, became_at_risk: false, lost_key_account: true, reason: null },
    ],
    callFirst: [{ customer_id: 'C2', name: null, email: 'a***@example.com', phone: '+86 138****5678', key_account: true, net_revenue: 300, clv: 50, churn_risk: 0.42, reason: `revenue down 40% ${HOSTILE}` }],
    atRiskTotal: 1,
    renewals: { window_end: '2026-01-30', total: 1, rows: [{ rank: 1, customer_id: 'C2', name: null, account_owner: 'Li', contract_id: `P1${HOSTILE}`, plan: 'home', status: 'active', renewal_due: '2026-01-20', days_until_due: 20, renewals: 1, p_renew: 0.9, premium: 100, residual_value: 500, value_at_risk: 50, reason_code: 'plan', reason: '2nd renewal' }] },
    ...over,
  };
}
const NOW = new Date('2026-01-05T00:00:00Z');

describe('digestHtml', () => {
  it('escapes every value from the data and loads nothing: no script, no URL, only an inline style', () => {
    const html = digestHtml(data(), 'en', { masked: true, now: NOW });
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/<script|https?:\/\/|<link|<iframe/i);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it('English: the changes, who to call first with the reason, the renewals, the masking note', () => {
    const html = digestHtml(data(), 'en', { masked: true, now: NOW });
    for (const text of ['What changed in your book', 'New key accounts: 1', 'Became at risk: 1', 'No longer key accounts: 1', 'Who to call first', 'Renewals due by', '+86 138****5678', 'E-mail addresses and phone numbers are masked.']) {
      expect(html).toContain(text);
    }
    expect(html).toContain('changes since run 1');
    expect(digestHtml(data(), 'en', { masked: false, now: NOW })).not.toContain('are masked');
  });

  it('Chinese labels; the first run says there are no changes yet; a book with nobody at risk says so', () => {
    const zh = digestHtml(data(), 'zh', { masked: true, now: NOW });
    expect(zh).toContain('<html lang="zh-CN">');
    for (const text of ['每周简报：Li', '您的客户有何变化', '优先联系', '前到期的续保']) expect(zh).toContain(text);
    const first = digestHtml(data({ runs: { run_id: 1, previous_run_id: null, as_of: '2025-06-30', previous_as_of: null, key_share: 0.8 }, changes: [], callFirst: [], atRiskTotal: 0, renewals: null }), 'en', { masked: true, now: NOW });
    expect(first).toContain('the first run, so there are no changes to show yet');
    expect(first).not.toContain('What changed');
    expect(first).toContain('None of your customers is at risk.');
    expect(first).not.toContain('Renewals due');
  });
});

describe('digestFileName', () => {
  it('digest-<slug>.html, and .zh.html in Chinese', () => {
    expect(digestFileName('Li-Na', 'en')).toBe('digest-Li-Na.html');
    expect(digestFileName('王芳', 'zh')).toBe('digest-王芳.zh.html');
  });
});
