/**
 * `crm owners assign`'s rule (reports/owner-assign.ts) on hand-made books, no store: the largest
 * unowned key account first, to an owner with room, same region (then industry) first, then the
 * lightest book; deterministic; what stays unowned and the --max that would fit them all. And the
 * owner slugs used in report and digest file names (owner-filter.ts).
 */
import { describe, expect, it } from 'vitest';
import { proposalCsv, proposeOwners, suggestMax, type OwnerRoom, type UnownedAccount } from '../../src/reports/owner-assign.js';
import { ownerSlug, ownerSlugs } from '../../src/reports/owner-filter.js';

const owner = (name: string, key_accounts: number, revenue: number, main_region: string | null = null, main_industry: string | null = null): OwnerRoom => ({
  owner: name,
  team: `${name} team`,
  owner_email: `${name.toLowerCase()}@sales.example`,
  key_accounts,
  revenue,
  main_region,
  main_industry,
});
const account = (customer_id: string, net_revenue: number, region: string | null = null, industry: string | null = null): UnownedAccount => ({ customer_id, net_revenue, region, industry });

describe('proposeOwners', () => {
  it('gives the largest account to the lightest book, and balances as it goes', () => {
    const p = proposeOwners([account('A', 100), account('B', 90), account('C', 10)], [owner('Ann', 1, 50), owner('Bob', 1, 60)], 10);
    // A → Ann (50 < 60); then Ann holds 150, so B → Bob (60); then Bob 150 = Ann 150, Ann has 2 key accounts = Bob 2 → by name: Ann.
    expect(p.proposals.map((x) => [x.customer_id, x.account_owner])).toEqual([
      ['A', 'Ann'],
      ['B', 'Bob'],
      ['C', 'Ann'],
    ]);
    expect(p.unassigned).toEqual([]);
    expect(p.suggested_max).toBeNull();
  });

  it('never fills an owner past --max, counting the book they hold already; says what stays unowned and the --max that fits', () => {
    const owners = [owner('Ann', 2, 0), owner('Bob', 3, 0)];
    const p = proposeOwners([account('A', 5), account('B', 4), account('C', 3), account('D', 2)], owners, 3);
    expect(p.proposals.map((x) => x.account_owner)).toEqual(['Ann']);
    expect(p.unassigned).toEqual(['B', 'C', 'D']);
    // 4 to place: at 5, Ann has room for 3 and Bob for 2.
    expect(p.suggested_max).toBe(5);
    expect(suggestMax(owners, 4, 5)).toBe(5);
    expect(suggestMax(owners, 0, 3)).toBe(3);
    expect(suggestMax([], 4, 3)).toBeNull();
  });

  it('prefers an owner whose book is in the same region, then the same industry, over a lighter book', () => {
    const owners = [owner('Ann', 0, 0, 'East', 'Retail'), owner('Bob', 5, 900, 'West', 'Energy'), owner('Cai', 5, 500, 'North', 'Retail')];
    const p = proposeOwners([account('W', 10, 'West', 'Retail'), account('R', 9, 'South', 'Retail'), account('X', 8, 'South', 'Mining')], owners, 10);
    const by = Object.fromEntries(p.proposals.map((x) => [x.customer_id, x]));
    expect(by.W).toMatchObject({ account_owner: 'Bob', basis: 'region' });
    expect(by.W.reason).toMatch(/^same region \(West\); the only owner with room there/);
    // Same industry: Ann (0) and Cai (500) both Retail; the lighter book wins.
    expect(by.R).toMatchObject({ account_owner: 'Ann', basis: 'industry' });
    expect(by.R.reason).toMatch(/^same industry \(Retail\); lightest book of 2 owners with room there \(book: 0 revenue, 0\/10 key accounts\)/);
    expect(by.X).toMatchObject({ account_owner: 'Ann', basis: 'none' });
  });

  it('is deterministic: the same proposal whatever the input order, ties broken by id and owner name', () => {
    const accounts = [account('K2', 50), account('K1', 50), account('K3', 50), account('K0', 70)];
    const owners = [owner('Zoe', 0, 0), owner('Ann', 0, 0)];
    const first = proposeOwners(accounts, owners, 10);
    const again = proposeOwners([...accounts].reverse(), [...owners].reverse(), 10);
    expect(again).toEqual(first);
    expect(first.proposals.map((x) => `${x.customer_id}:${x.account_owner}`)).toEqual(['K0:Ann', 'K1:Zoe', 'K2:Zoe', 'K3:Ann']);
  });

  it('carries the owner\'s team and e-mail into the proposal', () => {
    const [p] = proposeOwners([account('A', 1)], [owner('Ann', 0, 0)], 10).proposals;
    expect(p).toMatchObject({ account_owner: 'Ann', team: 'Ann team', owner_email: 'ann@sales.example' });
  });
});

describe('proposalCsv', () => {
  it('writes the owners-file columns, quoting what needs it and keeping values exact', () => {
    const [p] = proposeOwners([account('C"1', 1)], [{ ...owner('Li, Na', 0, 0), team: null }], 10).proposals;
    const csv = proposalCsv([p]);
    const [header, row] = csv.trimEnd().split('\n');
    expect(header).toBe('customer_id,account_owner,team,owner_email,reason');
    expect(row.startsWith('"C""1","Li, Na",,"li, na@sales.example","no owner with room shares its region or industry;')).toBe(true);
  });
});

describe('ownerSlug', () => {
  it('keeps letters of any script, replaces the rest, and never leaves its folder', () => {
    expect(ownerSlug('Li Na')).toBe('Li-Na');
    expect(ownerSlug('王芳')).toBe('王芳');
    expect(ownerSlug('Diego González')).toBe('Diego-González');
    expect(ownerSlug('../../etc/passwd')).toBe('etc-passwd');
    expect(ownerSlug('<img src=x onerror=alert(1)>')).toBe('img-src-x-onerror-alert-1');
    expect(ownerSlug('...')).toBe('owner');
    expect(ownerSlug('a\u0000b\\c:d')).toBe('a-b-c-d');
    expect(ownerSlug('x'.repeat(200))).toHaveLength(80);
  });

  it('gives owners whose slugs collide (also by case) distinct ones', () => {
    expect(ownerSlugs(['Li Na', 'Li-Na', 'li na', '王芳'])).toEqual(['Li-Na', 'Li-Na-2', 'li-na-3', '王芳']);
  });
});
