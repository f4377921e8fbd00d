/**
 * Who the customers are: names, companies, e-mails, phones, regions, industries and account
 * owners.
 *
 * Why name cultures tied to regions: a customer list from a company selling in several
 * regions mixes name traditions (and non-ASCII letters: Müller, García, Łukasz), which is
 * exactly what exercises UTF-8 handling and name matching downstream. Chinese and Korean
 * names are written family name first ("Li Wei"), as they are in most CRMs.
 *
 * Why e-mails and phones are unique by construction: duplicates are a deliberate kind of
 * dirt ("the same person registered twice"), so accidental collisions would blur the count
 * a deduplication step should find. E-mails carry a per-name counter (anna.schmidt,
 * anna.schmidt2, ...); phone digits are a bijection of the customer's index modulo 10^8.
 *
 * All domains are reserved example domains (RFC 2606); all numbers are synthetic.
 */
import { Categorical, Rng, hash32 } from './random.js';

interface Culture {
  key: string;
  first: readonly string[];
  last: readonly string[];
  /** Family name first when displayed (Chinese, Korean). */
  familyFirst: boolean;
  /** The region whose phone format this culture's customers use when living there. */
  homeRegion: string;
  /** Phone template: `#` takes the next of 8 unique digits; everything else is literal. */
  phone: string;
  /** Company legal-form suffixes used in this culture's home region. */
  companySuffixes: readonly string[];
}

const CULTURES: readonly Culture[] = [
  {
    key: 'english',
    first: ['James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William', 'Susan', 'Richard', 'Jessica', 'Thomas', 'Sarah', 'Daniel', 'Karen', 'Matthew', 'Emily', 'Chris', 'Laura', 'Brian', 'Megan', 'Kevin', 'Rachel', 'Jason', 'Amanda', 'Ryan', 'Olivia', 'Liam', 'Emma', 'Noah', 'Ava', 'Ethan', 'Sophia'],
    last: ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Anderson', 'Taylor', 'Thomas', 'Moore', 'Martin', 'Jackson', 'Thompson', 'White', 'Harris', 'Clark', 'Lewis', 'Walker', 'Hall', 'Allen', 'Young', 'King', 'Wright', 'Scott', 'Green', 'Baker', 'Adams', 'Nelson', 'Carter', 'Mitchell', 'Roberts', 'Turner', 'Phillips', 'Campbell', 'Parker', 'Evans', 'Edwards', 'Collins'],
    familyFirst: false,
    homeRegion: 'North America',
    phone: '+1 (3##) 4##-####',
    companySuffixes: ['Inc.', 'LLC', ', Inc.', 'Corp.'],
  },
  {
    key: 'british',
    first: ['Oliver', 'George', 'Harry', 'Jack', 'Charlotte', 'Amelia', 'Isla', 'Grace', 'Seán', 'Siobhán', 'Niamh', 'Aoife', 'Ciarán', 'Eoin', 'Fiona', 'Callum', 'Rhys', 'Gareth', 'Eilidh', 'Hamish'],
    last: ["O'Brien", 'Murphy', 'Kelly', 'Walsh', 'Byrne', 'Ryan', "O'Connor", 'McCarthy', 'Doyle', 'Davies', 'Hughes', 'Patel', 'Khan', 'Robertson', 'Stewart', 'MacDonald', 'Fraser', 'Morgan', 'Price', 'Lloyd'],
    familyFirst: false,
    homeRegion: 'UK & Ireland',
    phone: '+44 20 #### ####',
    companySuffixes: ['Ltd', 'Ltd.', 'PLC', '& Sons Ltd'],
  },
  {
    key: 'german',
    first: ['Anna', 'Lukas', 'Leonie', 'Felix', 'Lena', 'Jonas', 'Marie', 'Paul', 'Sophie', 'Maximilian', 'Hannah', 'Jürgen', 'Jörg', 'Katrin', 'Stefan', 'Sabine', 'Uwe', 'Birgit', 'Matthias', 'Claudia'],
    last: ['Schmidt', 'Müller', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Schäfer', 'Koch', 'Bauer', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann', 'Schwarz', 'Zimmermann'],
    familyFirst: false,
    homeRegion: 'Europe',
    phone: '+49 30 ########',
    companySuffixes: ['GmbH', 'GmbH & Co. KG', 'AG'],
  },
  {
    key: 'french',
    first: ['Camille', 'Léa', 'Chloé', 'Manon', 'Hugo', 'Lucas', 'Louis', 'Théo', 'Jules', 'Élodie', 'Mathieu', 'Nicolas', 'Aurélie', 'Sébastien', 'Céline', 'François', 'Hélène', 'Benoît', 'Margaux', 'Inès'],
    last: ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent', 'Lefèvre', 'Michel', 'Garcia', 'Fournier', 'Girard', 'Bonnet', 'Dupont', 'Lambert'],
    familyFirst: false,
    homeRegion: 'Europe',
    phone: '+33 1 ## ## ## ##',
    companySuffixes: ['SARL', 'SAS', 'S.A.'],
  },
  {
    key: 'spanish',
    first: ['José', 'María', 'Carmen', 'Antonio', 'Lucía', 'Manuel', 'Javier', 'Sofía', 'Alejandro', 'Valentina', 'Diego', 'Camila', 'Pablo', 'Elena', 'Andrés', 'Isabel', 'Mateo', 'Gabriela', 'Fernando', 'Ana'],
    last: ['García', 'Rodríguez', 'González', 'Fernández', 'López', 'Martínez', 'Sánchez', 'Pérez', 'Gómez', 'Díaz', 'Hernández', 'Álvarez', 'Moreno', 'Romero', 'Navarro', 'Torres', 'Ramírez', 'Flores', 'Vargas', 'Castro'],
    familyFirst: false,
    homeRegion: 'Latin America',
    phone: '+52 55 ####-####',
    companySuffixes: ['S.A. de C.V.', 'S.L.', 'S.A.'],
  },
  {
    key: 'portuguese',
    first: ['João', 'Ana', 'Pedro', 'Beatriz', 'Lucas', 'Mariana', 'Gabriel', 'Larissa', 'Rafael', 'Juliana', 'Thiago', 'Fernanda', 'Bruno', 'Camila', 'Gustavo', 'Letícia'],
    last: ['Silva', 'Santos', 'Oliveira', 'Souza', 'Rodrigues', 'Ferreira', 'Alves', 'Pereira', 'Lima', 'Gomes', 'Costa', 'Ribeiro', 'Martins', 'Carvalho', 'Almeida', 'Araújo'],
    familyFirst: false,
    homeRegion: 'Latin America',
    phone: '+55 11 9####-####',
    companySuffixes: ['Ltda.', 'S.A.'],
  },
  {
    key: 'italian',
    first: ['Giulia', 'Marco', 'Francesca', 'Alessandro', 'Chiara', 'Luca', 'Sara', 'Matteo', 'Martina', 'Lorenzo', 'Valentina', 'Andrea', 'Federica', 'Davide', 'Elisa', 'Simone'],
    last: ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci', 'Marino', 'Greco', 'Bruno', 'Gallo', 'Conti', 'De Luca', 'Mancini', 'Lombardi'],
    familyFirst: false,
    homeRegion: 'Europe',
    phone: '+39 02 ########',
    companySuffixes: ['S.r.l.', 'S.p.A.'],
  },
  {
    key: 'polish',
    first: ['Piotr', 'Anna', 'Krzysztof', 'Katarzyna', 'Tomasz', 'Magdalena', 'Paweł', 'Agnieszka', 'Łukasz', 'Małgorzata', 'Michał', 'Joanna'],
    last: ['Nowak', 'Kowalski', 'Wiśniewski', 'Wójcik', 'Kowalczyk', 'Kamiński', 'Lewandowski', 'Zieliński', 'Szymański', 'Woźniak', 'Dąbrowski', 'Kozłowski'],
    familyFirst: false,
    homeRegion: 'Europe',
    phone: '+48 2# ### ## ##',
    companySuffixes: ['Sp. z o.o.', 'S.A.'],
  },
  {
    key: 'chinese',
    first: ['Wei', 'Fang', 'Min', 'Jing', 'Lei', 'Jun', 'Yan', 'Tao', 'Ming', 'Xiuying', 'Hui', 'Qiang', 'Lan', 'Yong', 'Na', 'Jie', 'Ping', 'Hong', 'Xin', 'Yu'],
    last: ['Li', 'Wang', 'Zhang', 'Liu', 'Chen', 'Yang', 'Huang', 'Zhao', 'Wu', 'Zhou', 'Xu', 'Sun', 'Ma', 'Zhu', 'Hu', 'Guo', 'He', 'Lin', 'Gao', 'Luo'],
    familyFirst: true,
    homeRegion: 'Asia Pacific',
    phone: '+86 13# #### ###',
    companySuffixes: ['Co., Ltd.', 'Ltd.'],
  },
  {
    key: 'japanese',
    first: ['Haruto', 'Yui', 'Sota', 'Hina', 'Ren', 'Aoi', 'Yuto', 'Sakura', 'Kenji', 'Yuki', 'Takashi', 'Emi'],
    last: ['Sato', 'Suzuki', 'Takahashi', 'Tanaka', 'Watanabe', 'Ito', 'Yamamoto', 'Nakamura', 'Kobayashi', 'Kato'],
    familyFirst: false,
    homeRegion: 'Asia Pacific',
    phone: '+81 3-####-####',
    companySuffixes: ['K.K.', 'Co., Ltd.'],
  },
  {
    key: 'indian',
    first: ['Aarav', 'Priya', 'Vivaan', 'Ananya', 'Aditya', 'Diya', 'Rohan', 'Kavya', 'Arjun', 'Isha', 'Rahul', 'Neha', 'Vikram', 'Pooja', 'Sanjay', 'Deepa'],
    last: ['Sharma', 'Patel', 'Singh', 'Kumar', 'Gupta', 'Mehta', 'Reddy', 'Iyer', 'Nair', 'Joshi', 'Rao', 'Desai', 'Chopra', 'Malhotra', 'Banerjee'],
    familyFirst: false,
    homeRegion: 'Asia Pacific',
    phone: '+91 98### #####',
    companySuffixes: ['Pvt. Ltd.', 'Ltd.'],
  },
  {
    key: 'korean',
    first: ['Min-jun', 'Seo-yeon', 'Ji-ho', 'Ha-eun', 'Do-yun', 'Ji-woo', 'Seo-jun', 'Su-bin'],
    last: ['Kim', 'Lee', 'Park', 'Choi', 'Jung', 'Kang', 'Cho', 'Yoon'],
    familyFirst: true,
    homeRegion: 'Asia Pacific',
    phone: '+82 10-####-####',
    companySuffixes: ['Co., Ltd.', 'Corp.'],
  },
  {
    key: 'arabic',
    first: ['Mohammed', 'Fatima', 'Ahmed', 'Aisha', 'Omar', 'Layla', 'Yusuf', 'Mariam', 'Ali', 'Noor', 'Hassan', 'Sara', 'Khalid', 'Huda'],
    last: ['Al-Farsi', 'Haddad', 'Nasser', 'Khalil', 'Saleh', 'Mansour', 'Hamdan', 'Aziz', 'Rahman', 'Qureshi'],
    familyFirst: false,
    homeRegion: 'Middle East & Africa',
    phone: '+971 5# ### ####',
    companySuffixes: ['LLC', 'FZE', 'FZ-LLC'],
  },
  {
    key: 'african',
    first: ['Thabo', 'Amara', 'Kwame', 'Ngozi', 'Sipho', 'Zanele', 'Chidi', 'Wanjiru', 'Tendai', 'Ama'],
    last: ['Nkosi', 'Okafor', 'Mensah', 'Dlamini', 'Mwangi', 'Adeyemi', 'Botha', 'Naidoo', 'Osei', 'Kamau'],
    familyFirst: false,
    homeRegion: 'Middle East & Africa',
    phone: '+27 ## ### ###',
    companySuffixes: ['(Pty) Ltd', 'Ltd'],
  },
];

interface RegionSpec {
  name: string;
  weight: number;
  /** Culture key → relative weight among this region's customers. */
  cultures: Record<string, number>;
  /** Phone format for customers whose culture's home is elsewhere. */
  phone: string;
  companySuffixes: readonly string[];
}

export const REGIONS: readonly RegionSpec[] = [
  { name: 'North America', weight: 30, cultures: { english: 70, spanish: 10, chinese: 5, indian: 6, korean: 3, african: 3, british: 3 }, phone: '+1 (6##) 2##-####', companySuffixes: ['Inc.', 'LLC'] },
  { name: 'Europe', weight: 25, cultures: { german: 30, french: 25, spanish: 12, italian: 15, polish: 10, arabic: 4, british: 4 }, phone: '+31 6 ########', companySuffixes: ['B.V.', 'GmbH'] },
  { name: 'UK & Ireland', weight: 12, cultures: { british: 75, indian: 10, english: 8, polish: 7 }, phone: '+44 161 ### #####', companySuffixes: ['Ltd'] },
  { name: 'Asia Pacific', weight: 18, cultures: { chinese: 38, japanese: 18, indian: 22, korean: 10, english: 12 }, phone: '+65 ####-####', companySuffixes: ['Pte Ltd', 'Pty Ltd'] },
  { name: 'Latin America', weight: 8, cultures: { spanish: 55, portuguese: 40, italian: 5 }, phone: '+57 1 ### #####', companySuffixes: ['S.A.'] },
  { name: 'Middle East & Africa', weight: 7, cultures: { arabic: 50, african: 42, indian: 5, english: 3 }, phone: '+971 4 ### #####', companySuffixes: ['LLC'] },
];

export const INDUSTRIES: readonly { name: string; words: readonly string[]; weight: number }[] = [
  { name: 'Retail', words: ['Stores', 'Market', 'Outfitters', 'Trading'], weight: 22 },
  { name: 'Manufacturing', words: ['Manufacturing', 'Industries', 'Fabrication', 'Works'], weight: 18 },
  { name: 'Healthcare', words: ['Clinic', 'Health', 'Medical', 'Care'], weight: 12 },
  { name: 'Education', words: ['Academy', 'School', 'Learning', 'Institute'], weight: 9 },
  { name: 'Hospitality', words: ['Hotels', 'Catering', 'Hospitality', 'Kitchens'], weight: 12 },
  { name: 'Technology', words: ['Systems', 'Software', 'Labs', 'Digital'], weight: 13 },
  { name: 'Logistics', words: ['Logistics', 'Freight', 'Transport', 'Shipping'], weight: 8 },
  { name: 'Construction', words: ['Construction', 'Builders', 'Contractors', 'Building'], weight: 6 },
];

const COMPANY_WORDS = ['Northwind', 'Bluefield', 'Summit', 'Apex', 'Riverside', 'Harbor', 'Evergreen', 'Silverline', 'Redwood', 'Keystone', 'Brightwater', 'Ironbridge', 'Lakeside', 'Meridian', 'Oakridge', 'Pinecrest', 'Stonegate', 'Westbrook', 'Goldleaf', 'Clearview', 'Highland', 'Sunrise', 'Crescent', 'Granite', 'Maple', 'Orchard', 'Pioneer', 'Beacon', 'Horizon', 'Atlas'];

const CONSUMER_DOMAINS = ['example.com', 'example.net', 'example.org', 'mail.example', 'post.example', 'inbox.example'];
const CONSUMER_DOMAIN_WEIGHTS = [30, 15, 10, 20, 10, 15];

/** Lower-case ASCII for e-mail local parts and domains: Müller → mueller, García → garcia. */
export function asciiFold(s: string): string {
  return s
    .replace(/[äÄ]/g, 'ae')
    .replace(/[öÖ]/g, 'oe')
    .replace(/[üÜ]/g, 'ue')
    .replace(/ß/g, 'ss')
    .replace(/[łŁ]/g, 'l')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '');
}

export interface Identity {
  name: string;
  email: string;
  phone: string;
}

/** Fill a phone template's `#` with the 8 digits of `unique` (0 ≤ unique < 10^8). */
function formatPhone(template: string, unique: number): string {
  const digits = String(unique).padStart(8, '0');
  let k = 0;
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    out += ch === '#' ? digits[k++] : ch;
  }
  return out;
}

const PHONE_SPACE = 100_000_000;
/**
 * Coprime with 10, so i ↦ i·M + offset is a bijection modulo 10^8 (unique numbers); large, so
 * neighbouring customers get unrelated-looking numbers. i·M stays below 2^53 for any i < 10^8.
 */
const PHONE_MULTIPLIER = 37_197_131;

/** A culture with its names pre-folded to ASCII and each (first, last) pair numbered. */
interface PreparedCulture {
  culture: Culture;
  firstAscii: string[];
  lastAscii: string[];
  /** Global id of pair (first i, last j) at i·last.length + j; equal ASCII spellings share an id. */
  pairId: Int32Array;
}

/**
 * Draws identities. Holds only small tables plus one counter per distinct ASCII first/last
 * name pair (a few thousand), so the unique e-mail counters need no string keys per customer.
 */
export class People {
  private readonly regionDraw = new Categorical(REGIONS.map((r) => r.weight));
  private readonly cultureDrawByRegion: { draw: Categorical; cultures: PreparedCulture[] }[];
  private readonly industryDraw = new Categorical(INDUSTRIES.map((i) => i.weight));
  private readonly domainDraw = new Categorical(CONSUMER_DOMAIN_WEIGHTS);
  private readonly prepared: PreparedCulture[];
  private readonly emailCounters: Uint32Array;
  private readonly phoneOffset: number;
  private readonly ownerSalt: number;
  private readonly companyDomainCache = new Map<string, string>();
  /** Every (culture, first, last) index triple, for owner names; and those written given name first. */
  private readonly ownerCombos: [number, number, number][] = [];
  private readonly westernOwnerCombos: [number, number, number][] = [];
  private readonly ownerSteps: [number, number];

  constructor(seed: number) {
    const pairIds = new Map<string, number>();
    this.prepared = CULTURES.map((culture) => {
      const firstAscii = culture.first.map(asciiFold);
      const lastAscii = culture.last.map(asciiFold);
      const pairId = new Int32Array(firstAscii.length * lastAscii.length);
      for (let i = 0; i < firstAscii.length; i++) {
        for (let j = 0; j < lastAscii.length; j++) {
          const key = `${firstAscii[i]}|${lastAscii[j]}`;
          let id = pairIds.get(key);
          if (id === undefined) {
            id = pairIds.size;
            pairIds.set(key, id);
          }
          pairId[i * lastAscii.length + j] = id;
        }
      }
      return { culture, firstAscii, lastAscii, pairId };
    });
    this.emailCounters = new Uint32Array(pairIds.size);
    this.cultureDrawByRegion = REGIONS.map((r) => {
      const cultures = Object.keys(r.cultures).map((k) => {
        const c = this.prepared.find((x) => x.culture.key === k);
        if (!c) throw new Error(`unknown culture ${k}`);
        return c;
      });
      return { draw: new Categorical(Object.values(r.cultures)), cultures };
    });
    this.phoneOffset = hash32(seed ^ 0x5bd1e995) % PHONE_SPACE;
    this.ownerSalt = hash32(seed ^ 0x1b873593);
    CULTURES.forEach((c, ci) => {
      for (let f = 0; f < c.first.length; f++) {
        for (let l = 0; l < c.last.length; l++) {
          this.ownerCombos.push([ci, f, l]);
          if (!c.familyFirst) this.westernOwnerCombos.push([ci, f, l]);
        }
      }
    });
    this.ownerSteps = [coprimeStep(this.ownerCombos.length), coprimeStep(this.westernOwnerCombos.length)];
  }

  regionIndex(rng: Rng): number {
    return this.regionDraw.draw(rng);
  }

  regionName(index: number): string {
    return REGIONS[index].name;
  }

  industryIndex(rng: Rng): number {
    return this.industryDraw.draw(rng);
  }

  industryName(index: number): string {
    return INDUSTRIES[index].name;
  }

  /** A unique local part: first.last, first_last or firstlast, with a counter from the 2nd on. */
  private uniqueLocalPart(rng: Rng, c: PreparedCulture, first: number, last: number): string {
    const pair = c.pairId[first * c.lastAscii.length + last];
    const n = ++this.emailCounters[pair];
    const style = rng.int(10);
    const sep = style < 6 ? '.' : style < 8 ? '_' : '';
    return `${c.firstAscii[first]}${sep}${c.lastAscii[last]}${n > 1 ? n : ''}`;
  }

  private companyDomain(lead: string, word: string): string {
    const key = `${lead}|${word}`;
    let domain = this.companyDomainCache.get(key);
    if (domain === undefined) {
      domain = `${asciiFold(lead)}-${asciiFold(word)}.example`;
      this.companyDomainCache.set(key, domain);
    }
    return domain;
  }

  /**
   * A new identity for customer number `index` in region `region`. Businesses get a company
   * name and a contact e-mail at the company's domain; consumers a personal name and address.
   */
  identity(rng: Rng, index: number, region: number, business: { industry: number } | null): Identity {
    const r = this.cultureDrawByRegion[region];
    const c = r.cultures[r.draw.draw(rng)];
    const culture = c.culture;
    const last = rng.int(culture.last.length);
    const first = rng.int(culture.first.length);
    const lastName = culture.last[last];
    const display = displayName(culture, culture.first[first], lastName);
    const local = this.uniqueLocalPart(rng, c, first, last);
    const atHome = culture.homeRegion === REGIONS[region].name;
    const phoneTemplate = atHome ? culture.phone : REGIONS[region].phone;
    const phone = formatPhone(phoneTemplate, (index * PHONE_MULTIPLIER + this.phoneOffset) % PHONE_SPACE);
    if (!business) {
      return { name: display, email: `${local}@${CONSUMER_DOMAINS[this.domainDraw.draw(rng)]}`, phone };
    }
    const industry = INDUSTRIES[business.industry];
    // A third of companies carry a family name ("Schmidt Logistics GmbH"), the rest a brand word.
    const lead = rng.chance(0.33) ? lastName : rng.pick(COMPANY_WORDS);
    const word = rng.pick(industry.words);
    const suffixes = atHome ? culture.companySuffixes : REGIONS[region].companySuffixes;
    const suffix = rng.pick(suffixes);
    const name = suffix.startsWith(',') ? `${lead} ${word}${suffix}` : `${lead} ${word} ${suffix}`;
    return { name, email: `${local}@${this.companyDomain(lead, word)}`, phone };
  }

  /**
   * The name of account owner number k: a pure function of (seed, k), so owners need no table,
   * and distinct for distinct k, so grouping by owner name never merges two owners. k walks a
   * seeded permutation of all (culture, first, last) combinations (~4,700); past those, names
   * from cultures written given-name-first get a middle initial ("Anna B. Schmidt").
   */
  ownerName(k: number): string {
    const all = this.ownerCombos;
    if (k < all.length) {
      const [c, first, last] = all[(k * this.ownerSteps[0] + this.ownerSalt) % all.length];
      return displayName(CULTURES[c], CULTURES[c].first[first], CULTURES[c].last[last]);
    }
    const western = this.westernOwnerCombos;
    const j = k - all.length;
    const round = Math.floor(j / western.length); // 0 → initial A, 25 → Z, 26 → A2 ...
    const [c, first, last] = western[((j % western.length) * this.ownerSteps[1] + this.ownerSalt) % western.length];
    const initial = INITIALS[round % INITIALS.length] + (round >= INITIALS.length ? String(Math.floor(round / INITIALS.length) + 1) : '');
    return `${CULTURES[c].first[first]} ${initial}. ${CULTURES[c].last[last]}`;
  }
}

/** A step coprime with n, so that i ↦ (i·step + offset) mod n is a permutation of [0, n). */
function coprimeStep(n: number): number {
  let step = 2_654_435_761 % n;
  while (gcd(step, n) !== 1) step++;
  return step;
}

const INITIALS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function displayName(culture: Culture, first: string, last: string): string {
  return culture.familyFirst ? `${last} ${first}` : `${first} ${last}`;
}
