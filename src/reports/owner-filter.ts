/**
 * `--owner NAME` (crm renewals, crm keyaccounts, crm export segment|renewals|owners): a manager's
 * own book. The owner of a customer is the one in effect (the `customer_owners` view); a name is
 * matched exactly, and a name no customer has is refused (exit 3) rather than giving an empty
 * list that reads like "nothing to do".
 */
import type { Store } from '../store/db.js';
import { inputError } from '../util/errors.js';
import { formatCount } from '../util/format.js';

/** Owners listed in the message for an unknown `--owner` when there are no more than this many. */
const OWNERS_LISTED = 12;

/**
 * A condition on a relation's customer_id keeping the customers of `$owner` (NULL keeps all):
 * add `{ owner }` to the statement's parameters.
 */
export const OWNER_BOOK_SQL = `(CAST($owner AS VARCHAR) IS NULL OR ${ownerBookCondition('CAST($owner AS VARCHAR)')})`;

/** A condition on a relation's customer_id keeping the customers whose owner in effect is the SQL text `owner` (a parameter or a literal). */
export function ownerBookCondition(owner: string): string {
  return `customer_id IN (SELECT customer_id FROM customer_owners WHERE account_owner = ${owner})`;
}

/** An owner is known when some customer's owner in effect is them; otherwise an input error naming the owners there are. */
export async function checkOwner(store: Store, owner: string): Promise<void> {
  const owners = await store.all<{ owner: string; exact: boolean }>(
    `SELECT DISTINCT account_owner AS owner, account_owner = $owner AS exact
     FROM customer_owners
     ORDER BY exact DESC, owner`,
    { owner },
  );
  if (owners[0]?.exact) return;
  const details: string[] = [];
  const folded = owners.filter((o) => o.owner.toLowerCase() === owner.toLowerCase());
  if (folded.length > 0) details.push(`Did you mean ${folded.map((o) => JSON.stringify(o.owner)).join(' or ')}? Owners are matched exactly.`);
  if (owners.length === 0) details.push('No customer has an account_owner: load them with `crm ingest owners FILE` (or a customers file with an owner column).');
  else if (owners.length <= OWNERS_LISTED) details.push(`Owners: ${owners.map((o) => o.owner).join(', ')}.`);
  else details.push(`${formatCount(owners.length)} owners; list them with: crm owners`);
  throw inputError(`unknown owner ${JSON.stringify(owner)}: no customer has this account_owner`, details);
}

/** The longest slug `ownerSlug` makes (file names stay well under every file system's limit). */
const SLUG_MAX = 80;

/**
 * A file-name part for an owner (`report-<slug>.html`, `digest-<slug>.html`): letters, marks and
 * digits of any script are kept (`王芳` stays `王芳`, `José` stays `José`), everything else —
 * spaces, slashes, dots, quotes, control characters — becomes `-`, runs of `-` collapse and
 * none is left at either end, so no slug is empty, hidden or climbs out of its folder (`..`).
 */
export function ownerSlug(owner: string): string {
  const slug = [...owner.normalize('NFKC').replace(/[^\p{L}\p{M}\p{N}_]+/gu, '-').replace(/^[-_]+|[-_]+$/g, '')].slice(0, SLUG_MAX).join('').replace(/-+$/, '');
  return slug || 'owner';
}

/** Slugs for several owners: one that would repeat another (also ignoring case) gets `-2`, `-3`, …. */
export function ownerSlugs(owners: readonly string[]): string[] {
  const used = new Set<string>();
  return owners.map((owner) => {
    const base = ownerSlug(owner);
    let slug = base;
    for (let i = 2; used.has(slug.toLowerCase()); i++) slug = `${base}-${i}`;
    used.add(slug.toLowerCase());
    return slug;
  });
}
