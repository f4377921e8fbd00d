/**
 * Dates as integer day numbers, and the simulated period's calendar.
 *
 * Why integers: the simulation moves customers along a time line in days, and formatting a
 * date for each of ~10M lines must be cheap and locale-free. Days are converted with Howard
 * Hinnant's civil-from-days algorithm (pure integer arithmetic, proleptic Gregorian, no Date
 * objects, no time zones), and every ISO string the period can need is built once up front.
 *
 * Why seasonality lives here: purchase intensity varies by month (a November/December peak,
 * a summer dip), which the purchase process applies by thinning; the calendar knows each
 * day's month, so it carries the multiplier too.
 */
import { STORABLE_YEARS } from '../util/dates.js';

/** Days from 1970-01-01 to the given civil date (month 1–12). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The civil date of a day number. */
export function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parse a strict `YYYY-MM-DD` date into a day number, or throw naming the bad value. */
export function parseIsoDay(text: string): number {
  const m = ISO_DATE.exec(text);
  if (!m) throw new RangeError(`not an ISO date (YYYY-MM-DD): ${JSON.stringify(text)}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const day = daysFromCivil(y, mo, d);
  const back = civilFromDays(day);
  if (back.y !== y || back.m !== mo || back.d !== d) throw new RangeError(`no such date: ${text}`);
  return day;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export function isoFromDay(day: number): string {
  const { y, m, d } = civilFromDays(day);
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

/**
 * Relative purchase intensity by month (January first): a pre-Christmas peak and a summer
 * dip, as in most retail and wholesale series. The mean is about 1.
 */
export const MONTH_INTENSITY: readonly number[] = [0.85, 0.85, 0.95, 0.95, 1.0, 0.95, 0.9, 0.9, 1.0, 1.05, 1.25, 1.35];
export const MAX_MONTH_INTENSITY = Math.max(...MONTH_INTENSITY);

/** How far before the period a signup may lie, and after it a formatted day may be asked for. */
const MARGIN_BEFORE = 400;
const MARGIN_AFTER = 0;

/** The period is `years` whole years ending on endDate: 2025-12-31 and 3 → 2023-01-01. */
function periodFirstDay(endDate: string, years: number): number {
  const end = civilFromDays(parseIsoDay(endDate));
  return daysFromCivil(end.y - years, end.m, end.d) + 1;
}

/**
 * The first day a period may write (signups predate its first order by up to MARGIN_BEFORE
 * days), as an ISO date when it falls in a year a stored date may have (STORABLE_YEARS), else
 * null: earlier dates would be rejected when the generated files are ingested.
 */
export function earliestWrittenDate(endDate: string, years: number): string | null {
  const day = periodFirstDay(endDate, years) - MARGIN_BEFORE;
  return day >= daysFromCivil(STORABLE_YEARS.first, 1, 1) ? isoFromDay(day) : null;
}

/**
 * The simulated period: offsets 0 .. days−1 from its first day. Offsets in
 * [−MARGIN_BEFORE, days) can be formatted (signups may predate the first order).
 */
export class Calendar {
  readonly firstDay: number;
  readonly lastDay: number;
  readonly days: number;
  private readonly isoByOffset: string[];
  private readonly intensityByOffset: Float64Array;
  private readonly yearByOffset: Int32Array;

  constructor(endDate: string, years: number) {
    const last = parseIsoDay(endDate);
    this.firstDay = periodFirstDay(endDate, years);
    this.lastDay = last;
    this.days = last - this.firstDay + 1;
    const total = MARGIN_BEFORE + this.days + MARGIN_AFTER;
    this.isoByOffset = new Array<string>(total);
    this.intensityByOffset = new Float64Array(total);
    this.yearByOffset = new Int32Array(total);
    for (let i = 0; i < total; i++) {
      const day = this.firstDay - MARGIN_BEFORE + i;
      const c = civilFromDays(day);
      this.isoByOffset[i] = `${pad(c.y, 4)}-${pad(c.m, 2)}-${pad(c.d, 2)}`;
      this.intensityByOffset[i] = MONTH_INTENSITY[c.m - 1];
      this.yearByOffset[i] = c.y;
    }
  }

  /** The ISO date of a period offset (may be negative down to −400). */
  iso(offset: number): string {
    return this.isoByOffset[offset + MARGIN_BEFORE];
  }

  /** The month's purchase intensity multiplier on a period offset. */
  intensity(offset: number): number {
    return this.intensityByOffset[offset + MARGIN_BEFORE];
  }

  year(offset: number): number {
    return this.yearByOffset[offset + MARGIN_BEFORE];
  }

  /** The earliest offset that can be formatted. */
  get minOffset(): number {
    return -MARGIN_BEFORE;
  }
}

/** Days in month `m` (1–12) of year `y`, proleptic Gregorian. */
export function daysInMonth(y: number, m: number): number {
  return daysFromCivil(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1) - daysFromCivil(y, m, 1);
}

/**
 * The day `months` calendar months after civil date (y, m, d), the day of the month clamped to
 * the target month's length: Jan 31 + 1 month = Feb 28 (Feb 29 in a leap year), Feb 29 + 12
 * months = Feb 28. This is how policy and billing systems date a term, and why a contract's
 * periods are counted from one anchor date (anchor + n·months), never chained from the previous
 * period's end: chaining would walk Jan 31 → Feb 28 → Mar 28, drifting off the month's end.
 */
export function addMonthsCivil(y: number, m: number, d: number, months: number): number {
  const index = y * 12 + (m - 1) + months;
  const ty = Math.floor(index / 12);
  const tm = index - ty * 12 + 1;
  return daysFromCivil(ty, tm, Math.min(d, daysInMonth(ty, tm)));
}

/** `addMonthsCivil` on a day number. */
export function addMonths(day: number, months: number): number {
  const c = civilFromDays(day);
  return addMonthsCivil(c.y, c.m, c.d, months);
}
