/**
 * Value-level dirt: the mistakes real exports contain, injected at known rates so that an
 * ingest's reject counts can be checked against what was planted.
 *
 * Why value-level only: the default files stay well-formed CSV (same column count on every
 * line, quoting where a value needs it), so they can be read by any CSV reader; the dirt is in
 * what the values say — a missing customer id, a date that parses under no convention, an
 * amount that is not a number. Structurally broken files are hand-written samples
 * (data/dirty/).
 *
 * Why its own random stream: dirt is drawn from a generator separate from the behavioural
 * model's, so changing `dirtyShare` changes which lines are dirty and nothing else.
 *
 * Why spaced rather than independent: dirty lines are placed with gaps uniform on
 * [1, 2/share − 1] (mean 1/share) instead of a coin per line, so the count stays close to the
 * configured share even for small files; kinds rotate so each kind is present.
 */
import { Rng } from './random.js';
import type { TransactionDirtKind } from './options.js';

export const DIRT_KINDS: readonly TransactionDirtKind[] = ['missingCustomerId', 'invalidDate', 'invalidAmount'];
export const KIND_NONE = -1;

/**
 * Where dirty rows fall: gaps uniform on [1, 2/share − 1] (mean 1/share) between them. One
 * schedule per dirt planner; `tick()` once per candidate row.
 */
export class SpacedSchedule {
  private countdown: number;

  constructor(
    private readonly rng: Rng,
    private readonly share: number,
  ) {
    this.countdown = this.gap();
  }

  private gap(): number {
    if (this.share <= 0) return Number.POSITIVE_INFINITY;
    const span = Math.max(1, Math.round(2 / this.share - 1));
    return 1 + this.rng.int(span);
  }

  /** True when this row is to be dirty. */
  tick(): boolean {
    if (--this.countdown > 0) return false;
    this.countdown = this.gap();
    return true;
  }
}

export class DirtPlanner {
  private readonly schedule: SpacedSchedule;
  private next = 0;
  readonly counts = { missingCustomerId: 0, invalidDate: 0, invalidAmount: 0 };

  constructor(
    private readonly rng: Rng,
    share: number,
  ) {
    // Start the kind rotation at a random kind so the first dirty row is not always the same kind.
    this.next = share > 0 ? rng.int(DIRT_KINDS.length) : 0;
    this.schedule = new SpacedSchedule(rng, share);
  }

  /** Called once per candidate line: the index of the dirt kind to apply, or KIND_NONE. */
  tick(): number {
    if (!this.schedule.tick()) return KIND_NONE;
    const kind = this.next;
    this.next = (this.next + 1) % DIRT_KINDS.length;
    this.counts[DIRT_KINDS[kind]]++;
    return kind;
  }

  /** A date that no convention parses: impossible days, placeholders, spreadsheet errors. */
  invalidDate(year: number): string {
    switch (this.rng.int(5)) {
      case 0:
        return `31/02/${year}`;
      case 1:
        return 'n/a';
      case 2:
        return `${year}-02-30`;
      case 3:
        return '#VALUE!';
      default:
        return `${year}-13-01`;
    }
  }

  /**
   * A non-numeric unit price, derived from the real one: a decimal comma with the letter O for
   * a zero (`12,5O`, quoted because of the comma), a placeholder, or a stray letter.
   */
  invalidAmount(priceCents: number): string {
    const units = Math.floor(priceCents / 100);
    const cents = priceCents % 100;
    switch (this.rng.int(4)) {
      case 0:
        return `"${units},${Math.floor(cents / 10)}O"`;
      case 1:
        return 'N/A';
      case 2:
        return `${units}.${Math.floor(cents / 10)}O`; // 12.5O: the letter O for a zero
      default:
        return '-';
    }
  }
}

/** Break a valid e-mail the ways CRM entry forms let through. */
export function invalidEmail(rng: Rng, email: string): string {
  const at = email.indexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  switch (rng.int(5)) {
    case 0:
      return `${local}${domain}`; // no @
    case 1:
      return `${local}@@${domain}`;
    case 2:
      return `${local}@${domain.slice(0, domain.lastIndexOf('.'))}`; // no top-level domain
    case 3: {
      const spaced = /[._]/.test(local) ? local.replace(/[._]/, ' ') : `${local.slice(0, 1)} ${local.slice(1)}`;
      return `${spaced}@${domain}`; // a space
    }
    default:
      return `${local}@`;
  }
}

/**
 * The mistakes policy exports contain, planted in contracts.csv (ContractBook) at the dirty
 * share, each one something `crm ingest contracts` rejects or `crm quality` reports:
 * - `duplicatePeriod`: a period row exported twice (a re-export appended to the file): the
 *   contract's periods overlap exactly.
 * - `overlap`: a period's end runs 5–40 days into the next period (a mid-term endorsement
 *   re-dated the term): overlapping periods.
 * - `reinstatement`: the contract lapses for 45–150 days (longer than the default 30-day grace)
 *   and is reinstated under the same number: a gap, after which renewals count afresh.
 * - `endBeforeStart`: period_start and period_end swapped: a period ending before it starts.
 * - `missingPremium`: the amount is empty.
 * `overlap` and `reinstatement` need a following period; a dirty row drawn for a contract's
 * last period waits for the next row that has one, so the counts stay at the share.
 */
export const CONTRACT_DIRT_KINDS = ['duplicatePeriod', 'overlap', 'reinstatement', 'endBeforeStart', 'missingPremium'] as const;
export type ContractDirtKind = (typeof CONTRACT_DIRT_KINDS)[number];
export const CONTRACT_DIRT_KIND = { duplicatePeriod: 0, overlap: 1, reinstatement: 2, endBeforeStart: 3, missingPremium: 4 } as const;

export class ContractDirtPlanner {
  private readonly schedule: SpacedSchedule;
  private next: number;
  /** Kinds drawn but not yet placed (a row that needs a following period had none). */
  private readonly pending: number[] = [];
  readonly counts: Record<ContractDirtKind, number> = { duplicatePeriod: 0, overlap: 0, reinstatement: 0, endBeforeStart: 0, missingPremium: 0 };

  constructor(
    readonly rng: Rng,
    share: number,
  ) {
    this.next = share > 0 ? rng.int(CONTRACT_DIRT_KINDS.length) : 0;
    this.schedule = new SpacedSchedule(rng, share);
  }

  /**
   * Called once per period row: the dirt kind to apply to it, or KIND_NONE. `followed` says
   * whether the contract has a next period (the row can take an overlap or a reinstatement).
   */
  take(followed: boolean): number {
    if (this.schedule.tick()) {
      this.pending.push(this.next);
      this.next = (this.next + 1) % CONTRACT_DIRT_KINDS.length;
    }
    for (let i = 0; i < this.pending.length; i++) {
      const kind = this.pending[i];
      if (!followed && (kind === CONTRACT_DIRT_KIND.overlap || kind === CONTRACT_DIRT_KIND.reinstatement)) continue;
      this.pending.splice(i, 1);
      return kind;
    }
    return KIND_NONE;
  }

  /** Count a kind once it was actually applied. */
  applied(kind: number): void {
    this.counts[CONTRACT_DIRT_KINDS[kind]]++;
  }

  /** A kind taken for a row it turned out not to fit (a reinstatement running past the end): it waits for the next row. */
  putBack(kind: number): void {
    this.pending.unshift(kind);
  }
}
