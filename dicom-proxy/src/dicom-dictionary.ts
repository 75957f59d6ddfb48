/**
 * The PS3.6 data dictionary (from dcmjs, which ships it as a plain module): the VR of a tag when
 * the transfer syntax is implicit VR, and keyword ↔ tag for QIDO matching keys.
 */

interface DictionaryEntry {
  tag: string;
  vr: string;
  name: string;
  vm: string;
  version: string;
}

// dcmjs ships no type declarations; the specifier is not a literal so TS does not look for them.
const dictionaryModule = 'dcmjs/dictionary';
const { dictionary } = (await import(dictionaryModule)) as { dictionary: Record<string, DictionaryEntry> };

/** `GGGGEEEE` (upper-case hex) → entry; repeating groups (60xx overlays, 50xx curves) under their first group. */
const byTag = new Map<string, DictionaryEntry>();
const byKeyword = new Map<string, string>();
for (const [key, entry] of Object.entries(dictionary)) {
  const match = /^\(([0-9A-F]{4})(?:-[0-9A-F]{4})?,([0-9A-F]{4})\)$/i.exec(key);
  if (!match || entry.version === 'PrivateTag') continue;
  const tag = `${match[1]}${match[2]}`.toUpperCase();
  byTag.set(tag, entry);
  if (entry.name && entry.name !== 'Unknown' && !byKeyword.has(entry.name)) byKeyword.set(entry.name, tag);
}

function repeatingGroupTag(tag: string): string {
  const group = tag.slice(0, 2);
  return group === '60' || group === '50' ? `${group}00${tag.slice(4)}` : tag;
}

/**
 * The VR an implicit-VR element has. Ambiguous dictionary VRs resolve as PS3.5 Annex A has it for
 * the common case: OB/OW → OW, US/SS → US (SS when the pixel data is signed), US/SS/OW → US.
 */
export function dictionaryVr(tag: string, signedPixels = false): string {
  if (tag.endsWith('0000')) return 'UL'; // group length
  const entry = byTag.get(tag.toUpperCase()) ?? byTag.get(repeatingGroupTag(tag.toUpperCase()));
  if (!entry) return 'UN';
  const vr = entry.vr.toUpperCase();
  if (vr === 'OX' || vr === 'OB OR OW') return 'OW';
  if (vr === 'XS' || vr === 'US OR SS') return signedPixels ? 'SS' : 'US';
  if (vr === 'LT' && entry.vr === 'lt') return 'US'; // dcmjs's "lt" is US or SS or OW (LUT data)
  if (!/^[A-Z]{2}$/.test(vr)) return 'UN';
  return vr;
}

/** A matching key (keyword like `PatientName`, or tag `00100010`) as the 8-hex-digit tag, if known. */
export function tagOfKey(key: string): string | undefined {
  if (/^[0-9A-Fa-f]{8}$/.test(key)) return key.toUpperCase();
  return byKeyword.get(key);
}

/** The keyword of a tag (`00100010` → `PatientName`), if the dictionary has one. */
export function keywordOfTag(tag: string): string | undefined {
  return byTag.get(tag.toUpperCase())?.name;
}
