import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The PS3.6 data dictionary (from dcmjs, which ships it as a plain module): the VR of a tag when
 * the transfer syntax is implicit VR, and keyword ↔ tag for QIDO matching keys.
 */

interface DictionaryEntry {
  vr: string;
  name: string;
}

/**
 * dcmjs's dictionary module is one 1.4 MB object literal: importing it costs ~30 MB of heap and
 * code for the life of the process (the proxy's whole memory budget is 150 MB). Its text is read
 * once instead and only tag, VR and keyword kept: a few hundred kilobytes. The entry shape is
 * pinned by the lockfile and checked by dicom-dictionary.test.ts.
 */
const entryPattern =
  /"\(([0-9A-Fa-fx]{4})(?:-[0-9A-Fa-fx]{4})?,([0-9A-Fa-fx]{4})\)":\s*\{\s*tag:\s*"[^"]*",\s*vr:\s*"([^"]*)",\s*name:\s*"([^"]*)",\s*vm:\s*"[^"]*",\s*version:\s*"([^"]*)"/g;

/** `GGGGEEEE` (upper-case hex) → entry; repeating groups (60xx overlays, 50xx curves) under their first group. */
const byTag = new Map<string, DictionaryEntry>();
const byKeyword = new Map<string, string>();
{
  const text = readFileSync(fileURLToPath(import.meta.resolve('dcmjs/dictionary')), 'utf8');
  for (const [, group, element, vr, name, version] of text.matchAll(entryPattern)) {
    if (!group || !element || vr === undefined || name === undefined || version === 'PrivateTag') continue;
    if (!/^[0-9A-F]{4}$/i.test(group) || !/^[0-9A-F]{4}$/i.test(element)) continue;
    const tag = `${group}${element}`.toUpperCase();
    // A regex capture of 13 characters or more is a slice that keeps the whole 1.4 MB text alive;
    // a copy through a Buffer lets the text go (the dictionary is ASCII).
    const ownName = name.length < 13 ? name : Buffer.from(name, 'latin1').toString('latin1');
    byTag.set(tag, { vr, name: ownName });
    if (ownName && ownName !== 'Unknown' && !byKeyword.has(ownName)) byKeyword.set(ownName, tag);
  }
  if (byTag.size < 3_000)
    throw new Error(`the dcmjs dictionary yielded only ${byTag.size} entries: its format changed`);
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
