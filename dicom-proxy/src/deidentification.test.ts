import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeIso2022Japanese } from '../../stack/iso-2022-jp-encoding.ts';
import { writeTestSeries, type TestSeries } from '../../stack/dicom-test-series.ts';
import type { DicomJsonDataset } from './dicom-json.ts';
import {
  DeidentificationError,
  DeidentificationRefusal,
  deidentifyDataset,
  deidentifyMetadata,
  deidentifyPart10,
  findOriginalUid,
  remapUid,
} from './deidentification.ts';

const context = {
  sessionId: '3c9e1f2a-7b4d-4e8a-9f06-1d2c3b4a5e6f',
  key: 'deidentification-test-key-0123456789abcdef',
};
const testFiles = '/usr/lib/python3/dist-packages/pydicom/data/test_files';

interface Attr {
  vr: string;
  Value?: unknown[];
}
const { data: dcmjs } = createRequire(import.meta.url)('dcmjs') as {
  data: {
    DicomMessage: {
      readFile(
        buffer: ArrayBuffer,
        options?: { ignoreErrors: boolean },
      ): { meta: Record<string, Attr>; dict: Record<string, Attr> };
    };
  };
};
const read = (bytes: Uint8Array) =>
  dcmjs.DicomMessage.readFile(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    {
      ignoreErrors: true,
    },
  );

/** Tags whose values identify the patient, the people or the place (what must not come out). */
const identifying = new Set([
  '00080050',
  '00080080',
  '00080081',
  '00080090',
  '00081010',
  '00081030',
  '0008103E',
  '00081040',
  '00081048',
  '00081050',
  '00081060',
  '00081070',
  '00100010',
  '00100020',
  '00100030',
  '00101000',
  '00101001',
  '00101040',
  '00200010',
  '00181000',
  '00080020',
  '00080021',
  '00080022',
  '00080023',
  '00080012',
  '00080030',
  '00080031',
]);

/** Every identifying string (at least 4 characters) and every non-standard UID in a dataset. */
function originals(dataset: Record<string, Attr>, found = new Set<string>()): Set<string> {
  for (const [tag, attribute] of Object.entries(dataset)) {
    for (const value of attribute.Value ?? []) {
      if (attribute.vr === 'SQ') originals(value as Record<string, Attr>, found);
      else if (attribute.vr === 'PN' && value && typeof value === 'object') {
        for (const group of Object.values(value)) {
          for (const part of String(group).split(/[\^=]/)) if (part.trim().length >= 2) found.add(part.trim());
        }
      } else if (typeof value === 'string') {
        const trimmed = value.trim();
        if (attribute.vr === 'UI' && !trimmed.startsWith('1.2.840.10008.') && trimmed.length > 0) found.add(trimmed);
        else if (identifying.has(tag.toUpperCase()) && trimmed.length >= 4) found.add(trimmed);
      }
    }
  }
  return found;
}

/** The originals that can still be found in the output, in UTF-8, Latin-1 or ISO 2022 spelling. */
function leaks(output: Uint8Array | string, values: Iterable<string>): string[] {
  const bytes = typeof output === 'string' ? Buffer.from(output) : Buffer.from(output);
  return [...values].filter((value) => {
    const spellings = [Buffer.from(value, 'utf8'), Buffer.from(value, 'latin1')];
    if ([...value].some((character) => character.charCodeAt(0) > 0x7f)) {
      try {
        const jis = encodeIso2022Japanese(value, 'ISO 2022 IR 87');
        spellings.push(Buffer.from(jis.subarray(3, jis.length - 3))); // without the escapes around it
      } catch {
        // not encodable in JIS X 0208: its UTF-8 spelling is checked
      }
    }
    return spellings.some((spelling) => spelling.length > 0 && bytes.includes(spelling));
  });
}

describe('UID remapping', () => {
  const uid = '1.2.392.200036.9116.2.6.1.48.1214833767.1';

  it('maps the same way every time within a session, and differently in another session or with another key', () => {
    const remapped = remapUid(uid, context);
    expect(remapped).toMatch(/^2\.25\.(0|[1-9][0-9]*)$/);
    expect(remapped.length).toBeLessThanOrEqual(64);
    expect(remapUid(uid, context)).toBe(remapped);
    expect(remapUid(`${uid}.1`, context)).not.toBe(remapped);
    expect(remapUid(uid, { ...context, sessionId: '3c9e1f2a-7b4d-4e8a-9f06-1d2c3b4a5e60' })).not.toBe(remapped);
    expect(remapUid(uid, { ...context, key: `${context.key}-other` })).not.toBe(remapped);
    expect(() => remapUid(uid, { ...context, key: 'short' })).toThrow(DeidentificationError);
  });

  it('finds the original among candidates, and nothing for an unknown UID', () => {
    const candidates = ['1.2.3.4', uid, '1.2.3.5'];
    expect(findOriginalUid(remapUid(uid, context), candidates, context)).toBe(uid);
    expect(findOriginalUid(uid, candidates, context)).toBeNull();
    expect(findOriginalUid('2.25.1', candidates, context)).toBeNull();
  });
});

describe('de-identifying DICOM JSON', () => {
  const studyUid = '1.2.392.200036.9116.2.6.1.48.1214833767.1';
  const seriesUid = '1.2.392.200036.9116.2.6.1.48.1214833767.2';
  const sopUid = '1.2.392.200036.9116.2.6.1.48.1214833767.3';
  const dataset: DicomJsonDataset = {
    '00080005': { vr: 'CS', Value: ['ISO 2022 IR 87'] },
    '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
    '00080018': { vr: 'UI', Value: [sopUid] },
    '00080020': { vr: 'DA', Value: ['20250115'] },
    '00080050': { vr: 'SH', Value: ['A20250115-77'] },
    '00080060': { vr: 'CS', Value: ['CT'] },
    '00080080': { vr: 'LO', Value: ['離島中央診療所'] },
    '00080081': { vr: 'ST', Value: ['沖縄県島尻郡青島村1-2-3'] },
    '00080090': { vr: 'PN', Value: [{ Alphabetic: 'Suzuki^Ichiro', Ideographic: '鈴木^一郎' }] },
    '00081010': { vr: 'SH', Value: ['AOSHIMA-CT1'] },
    '00081030': { vr: 'LO', Value: ['胸部ＣＴ 山田様'] },
    '00081050': { vr: 'PN', Value: [{ Alphabetic: 'Tanaka^Hanako', Ideographic: '田中^花子' }] },
    '00081070': { vr: 'PN', Value: [{ Alphabetic: 'Kato^Gishi' }] },
    '00081110': {
      vr: 'SQ',
      Value: [{ '00081155': { vr: 'UI', Value: ['1.2.392.200036.9116.2.6.1.48.99'] } }],
    },
    '00081140': {
      vr: 'SQ',
      Value: [
        {
          '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
          '00081155': { vr: 'UI', Value: ['1.2.392.200036.9116.2.6.1.48.1214833767.4'] },
          '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Yamada^Taro' }] },
        },
      ],
    },
    '00081190': {
      vr: 'UR',
      Value: [`http://10.1.2.3:8042/dicom-web/studies/${studyUid}/series/${seriesUid}?patient=Yamada`],
    },
    '00090010': { vr: 'LO', Value: ['ACME 1.1'] },
    '00091001': { vr: 'LO', Value: ['山田 太郎 (private)'] },
    '00100010': {
      vr: 'PN',
      Value: [{ Alphabetic: 'Yamada^Taro', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }],
    },
    '00100020': { vr: 'LO', Value: ['P-0012345'] },
    '00100030': { vr: 'DA', Value: ['19550401'] },
    '00100040': { vr: 'CS', Value: ['M'] },
    '00101000': { vr: 'LO', Value: ['H-998877'] },
    '00101002': { vr: 'SQ', Value: [{ '00100020': { vr: 'LO', Value: ['OTHER-4711'] } }] },
    '00101010': { vr: 'AS', Value: ['069Y'] },
    '00101040': { vr: 'LO', Value: ['青島村字中央4-5'] },
    '00181000': { vr: 'LO', Value: ['SN-55AA99'] },
    '0020000D': { vr: 'UI', Value: [studyUid] },
    '0020000E': { vr: 'UI', Value: [seriesUid] },
    '00200010': { vr: 'SH', Value: ['ST-31415'] },
    '00200052': { vr: 'UI', Value: ['1.2.392.200036.9116.2.6.1.48.1214833767.5'] },
    '00280010': { vr: 'US', Value: [512] },
    '60003000': { vr: 'OW', BulkDataURI: `http://proxy/studies/${studyUid}/bulk/60003000` },
    '7fe00010': {
      vr: 'OW',
      BulkDataURI: `http://proxy/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}/frames/1`,
    },
  };

  it('leaves no original identifier, name, date or UID anywhere in the output', () => {
    const output = JSON.stringify(deidentifyDataset(dataset, context));
    const values = originals(dataset as Record<string, Attr>);
    for (const value of [
      '離島中央診療所',
      '山田',
      'やまだ',
      '鈴木',
      '田中',
      'Kato',
      'A20250115-77',
      'AOSHIMA-CT1',
      'SN-55AA99',
    ]) {
      values.add(value);
    }
    expect(values.has(studyUid)).toBe(true);
    expect(leaks(output, values)).toEqual([]);
    expect(output).not.toContain('patient=');
  });

  it('follows the profile: empties, removes, keeps the patient characteristics, remaps UIDs and marks the result', () => {
    const output = deidentifyDataset(dataset, context);
    expect(output['00100010']).toEqual({ vr: 'PN' });
    expect(output['00100020']).toEqual({ vr: 'LO' });
    expect(output['00100030']).toEqual({ vr: 'DA' });
    expect(output['00080050']).toEqual({ vr: 'SH' });
    expect(output['00200010']).toEqual({ vr: 'SH' });
    expect(output['00100040']).toEqual({ vr: 'CS', Value: ['M'] });
    expect(output['00101010']).toEqual({ vr: 'AS', Value: ['069Y'] });
    for (const removed of [
      '00080080',
      '00080081',
      '00081010',
      '00081030',
      '00081050',
      '00081070',
      '00081110',
      '00101000',
      '00101002',
      '00101040',
      '00181000',
      '00090010',
      '00091001',
      '60003000',
    ]) {
      expect(output[removed], removed).toBeUndefined();
    }
    expect(output['00080016']).toEqual({ vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] });
    expect(output['0020000D']).toEqual({ vr: 'UI', Value: [remapUid(studyUid, context)] });
    expect(output['00080018']).toEqual({ vr: 'UI', Value: [remapUid(sopUid, context)] });
    const reference = output['00081140']?.Value?.[0] as DicomJsonDataset;
    expect(reference['00081150']).toEqual({ vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] });
    expect(reference['00081155']?.Value).toEqual([remapUid('1.2.392.200036.9116.2.6.1.48.1214833767.4', context)]);
    expect(reference['00100010']).toEqual({ vr: 'PN' });
    expect(output['00081190']?.Value).toEqual([
      `http://10.1.2.3:8042/dicom-web/studies/${remapUid(studyUid, context)}/series/${remapUid(seriesUid, context)}`,
    ]);
    expect(output['7FE00010']?.BulkDataURI).toBe(
      `http://proxy/studies/${remapUid(studyUid, context)}/series/${remapUid(seriesUid, context)}/instances/${remapUid(sopUid, context)}/frames/1`,
    );
    expect(output['00120062']).toEqual({ vr: 'CS', Value: ['YES'] });
    expect(output['00120063']?.Value?.[0]).toContain('PS3.15');
    expect(output['00280303']).toEqual({ vr: 'CS', Value: ['REMOVED'] });
    expect(output['00280010']).toEqual({ vr: 'US', Value: [512] });
    // The input is left as it was.
    expect(dataset['00100020']).toEqual({ vr: 'LO', Value: ['P-0012345'] });
  });

  it('is consistent across instances of the session: the same original UID maps the same way', () => {
    const again = deidentifyDataset({ ...dataset, '00080018': { vr: 'UI', Value: ['1.2.3.4.5'] } }, context);
    expect(again['0020000D']).toEqual(deidentifyDataset(dataset, context)['0020000D']);
  });

  it('refuses burned-in annotation, recognisable features, and secondary capture that does not say it has none', () => {
    const refusal = (extra: DicomJsonDataset) => {
      try {
        deidentifyDataset({ ...dataset, ...extra }, context);
        return null;
      } catch (error) {
        return error;
      }
    };
    expect(refusal({ '00280301': { vr: 'CS', Value: ['YES'] } })).toMatchObject({
      status: 403,
      reason: 'burned-in-annotation',
    });
    expect(refusal({ '00280302': { vr: 'CS', Value: ['YES'] } })).toBeInstanceOf(DeidentificationRefusal);
    expect(refusal({ '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.7'] } })).toBeInstanceOf(
      DeidentificationRefusal,
    );
    expect(refusal({ '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.6.1'] } })).toBeInstanceOf(
      DeidentificationRefusal,
    );
    expect(
      refusal({
        '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.7'] },
        '00280301': { vr: 'CS', Value: ['NO'] },
      }),
    ).toBeNull();
    expect(refusal({ '00280301': { vr: 'CS', Value: ['NO'] } })).toBeNull();

    const { datasets, withheld } = deidentifyMetadata(
      [dataset, { ...dataset, '00280301': { vr: 'CS', Value: ['YES'] } }],
      context,
    );
    expect(withheld).toBe(1);
    expect(datasets).toHaveLength(1);
  });
});

describe('de-identifying Part 10 files', () => {
  let dir: string;
  let series: TestSeries;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'telemed-deid-'));
    series = await writeTestSeries({
      dir,
      modality: 'CT',
      slices: 2,
      rows: 32,
      columns: 32,
      patientName: 'Yamada^Taro=山田^太郎=やまだ^たろう',
      patientId: 'AOSHIMA-0042',
      characterSet: 'ISO 2022 IR 87',
      studyDescription: '胸部ＣＴ 経過観察',
      seed: 'deidentification-test',
    });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function expectDeidentified(input: Uint8Array, extra: string[] = []) {
    const before = read(input);
    const output = deidentifyPart10(input, context);
    const after = read(output);
    const values = originals(before.dict);
    for (const value of extra) values.add(value);
    values.add(String(before.meta['00020003']?.Value?.[0]));
    // The profile keeps the manufacturer (MR_small's institution "TOSHIBA" is part of "TOSHIBA_MEC").
    const manufacturer = String(before.dict['00080070']?.Value?.[0] ?? '');
    for (const value of values) if (manufacturer.includes(value)) values.delete(value);
    expect(leaks(output, values)).toEqual([]);
    expect(after.dict['00120062']?.Value).toEqual(['YES']);
    expect(after.meta['00020003']?.Value).toEqual([remapUid(String(before.meta['00020003']?.Value?.[0]), context)]);
    expect(after.dict['00080018']?.Value).toEqual([remapUid(String(before.dict['00080018']?.Value?.[0]), context)]);
    expect(after.meta['00020010']?.Value).toEqual(before.meta['00020010']?.Value);
    const pixels = (dataset: Record<string, Attr>) =>
      (dataset['7FE00010']?.Value ?? []).map((frame) => Buffer.from(frame as ArrayBuffer));
    expect(pixels(after.dict)).toEqual(pixels(before.dict));
    return after;
  }

  it('de-identifies pydicom test files of several transfer syntaxes, pixel data untouched', async () => {
    for (const name of [
      'CT_small.dcm',
      'MR_small.dcm',
      'MR_small_implicit.dcm',
      'MR_small_RLE.dcm',
      'MR_small_jp2klossless.dcm',
      'MR_small_bigendian.dcm',
      'rtplan.dcm',
      'rtdose.dcm',
    ]) {
      const input = new Uint8Array(await readFile(join(testFiles, name)));
      const after = expectDeidentified(input);
      expect(after.dict['00100010']?.Value ?? [], name).toEqual([]);
    }
    const ct = expectDeidentified(new Uint8Array(await readFile(join(testFiles, 'CT_small.dcm'))), [
      'CompressedSamples',
      '1CT1',
      'JFK IMAGING CENTER',
      'GEMS_IDEN_01',
    ]);
    expect(ct.dict['00100040']?.Value).toEqual(['O']);
    expect(ct.dict['00280010']?.Value).toEqual([128]);
  });

  it('de-identifies a generated Japanese (ISO 2022 IR 87) instance: no name, ID, institution or UID survives', async () => {
    const input = new Uint8Array(await readFile(series.instances[0]!.path));
    const original = read(input);
    const output = deidentifyPart10(input, context);
    expect(
      leaks(output, [
        'Yamada',
        '山田',
        '太郎',
        'やまだ',
        'たろう',
        'AOSHIMA-0042',
        '離島中央診療所',
        '19550401',
        '胸部',
        series.studyInstanceUid,
        series.seriesInstanceUid,
        series.frameOfReferenceUid,
        series.instances[0]!.sopInstanceUid,
      ]),
    ).toEqual([]);
    const after = expectDeidentified(input);
    expect(after.dict['0020000D']?.Value).toEqual([remapUid(series.studyInstanceUid, context)]);
    expect(after.dict['00080005']?.Value).toEqual(['ISO_IR 192']);
    expect(after.dict['00280010']?.Value).toEqual(original.dict['00280010']?.Value);
    // Both slices of the series end up in the same remapped series.
    const second = read(deidentifyPart10(new Uint8Array(await readFile(series.instances[1]!.path)), context));
    expect(second.dict['0020000E']?.Value).toEqual(after.dict['0020000E']?.Value);
  });

  it('refuses secondary capture without a burned-in annotation statement', async () => {
    const input = new Uint8Array(await readFile(join(testFiles, 'SC_rgb_small_odd.dcm')));
    const sopClass = read(input).dict['00080016']?.Value?.[0];
    expect(String(sopClass)).toMatch(/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.7/);
    expect(() => deidentifyPart10(input, context)).toThrow(DeidentificationRefusal);
  });

  it('reports a file it cannot read', () => {
    expect(() => deidentifyPart10(new TextEncoder().encode('not a dicom file'), context)).toThrow(
      DeidentificationError,
    );
  });
});
