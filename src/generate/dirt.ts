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

export class DirtPlanner {
  private countdown: number;
  private next = 0;
  readonly counts = { missingCustomerId: 0, invalidDate: 0, invalidAmount: 0 };

  constructor(
    private readonly rng: Rng,
    private readonly share: number,
  ) {
    // Start the kind rotation at a random kind so the first dirty row is not always the same kind.
    this.next = share > 0 ? rng.int(DIRT_KINDS.length) : 0;
    this.countdown = this.gap();
  }

  private gap(): number {
    if (this.share <= 0) return Number.POSITIVE_INFINITY;
    const span = Math.max(1, Math.round(2 / this.share - 1));
    return 1 + this.rng.int(span);
  }

  /** Called once per candidate line: the index of the dirt kind to apply, or KIND_NONE. */
  tick(): number {
    if (--this.countdown > 0) return KIND_NONE;
    this.countdown = this.gap();
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
