import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestSeries, type TestSeriesCharacterSet } from './dicom-test-series.ts';
import { startTestOrthanc, type PrivateOrthanc } from './private-orthanc.ts';

// Debian's pydicom is installed for the system Python, which may not be the first on PATH.
const PYTHON = '/usr/bin/python3';

function pydicomRead(path: string, expression: string): string {
  const script = `import pydicom, sys; d = pydicom.dcmread(sys.argv[1]); print(${expression})`;
  return execFileSync(PYTHON, ['-c', script, path], { encoding: 'utf8' }).trimEnd();
}

const names: Record<TestSeriesCharacterSet, string> = {
  'ISO_IR 192': 'Yamada^Taro=山田^太郎=やまだ^たろう',
  'ISO 2022 IR 87': 'Yamada^Tarou=山田^太郎=やまだ^たろう',
  'ISO 2022 IR 13': 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう',
};

describe('test series generator', () => {
  let dir: string;
  let orthanc: PrivateOrthanc;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'telemed-series-'));
    orthanc = await startTestOrthanc();
  });
  afterAll(async () => {
    await orthanc?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes CT geometry, rescale and window tags that pydicom reads back', async () => {
    const series = await writeTestSeries({
      dir: join(dir, 'ct'),
      modality: 'CT',
      slices: 4,
      rows: 64,
      columns: 48,
      patientName: names['ISO_IR 192'],
      patientId: 'P-CT',
      characterSet: 'ISO_IR 192',
      seed: 'ct',
    });
    expect(series.instances).toHaveLength(4);
    const third = series.instances[2]!;
    const read = pydicomRead(
      third.path,
      '"|".join(str(x) for x in [d.InstanceNumber, [float(v) for v in d.ImagePositionPatient], d.SliceLocation, [float(v) for v in d.ImageOrientationPatient], [float(v) for v in d.PixelSpacing], d.SliceThickness, float(d.RescaleIntercept), float(d.RescaleSlope), d.BitsAllocated, d.Rows, d.Columns, len(d.PixelData), d.FrameOfReferenceUID, d.StudyInstanceUID, d.SOPInstanceUID, d.file_meta.TransferSyntaxUID])',
    ).split('|');
    expect(read.slice(0, 12)).toEqual([
      '3',
      '[-135.0, -180.0, -2.5]',
      '-2.5',
      '[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]',
      '[5.625, 5.625]',
      '1.25',
      '-1024.0',
      '1.0',
      '16',
      '64',
      '48',
      String(64 * 48 * 2),
    ]);
    expect(read.slice(12)).toEqual([
      series.frameOfReferenceUid,
      series.studyInstanceUid,
      third.sopInstanceUid,
      '1.2.840.10008.1.2.1',
    ]);
  });

  it('is deterministic: the same seed gives the same bytes', async () => {
    const options = {
      modality: 'MR' as const,
      slices: 2,
      rows: 32,
      columns: 32,
      patientName: names['ISO 2022 IR 87'],
      patientId: 'P-MR',
      characterSet: 'ISO 2022 IR 87' as const,
      seed: 'same',
    };
    const a = await writeTestSeries({ ...options, dir: join(dir, 'a') });
    const b = await writeTestSeries({ ...options, dir: join(dir, 'b') });
    expect(a.instances.map((i) => i.sopInstanceUid)).toEqual(b.instances.map((i) => i.sopInstanceUid));
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(a.instances[1]!.path)).toEqual(await readFile(b.instances[1]!.path));
  });

  for (const characterSet of Object.keys(names) as TestSeriesCharacterSet[]) {
    it(`writes Japanese text in ${characterSet} that pydicom and Orthanc decode`, async () => {
      const series = await writeTestSeries({
        dir: join(dir, characterSet.replaceAll(' ', '_')),
        modality: 'CT',
        slices: 2,
        rows: 32,
        columns: 32,
        patientName: names[characterSet],
        patientId: `P-${characterSet}`,
        characterSet,
        seed: characterSet,
      });
      const path = series.instances[0]!.path;
      expect(pydicomRead(path, 'd.PatientName')).toBe(names[characterSet]);
      expect(pydicomRead(path, 'd.StudyDescription')).toBe('胸部単純CT');
      expect(pydicomRead(path, 'd.SeriesDescription')).toBe('肺野条件 軸位断');

      await orthanc.storeFiles(series.instances.map((instance) => instance.path));
      const url = new URL('studies', orthanc.dicomWebUrl);
      url.searchParams.set('StudyInstanceUID', series.studyInstanceUid);
      url.searchParams.append('includefield', 'StudyDescription');
      const [study] = (await (await fetch(url)).json()) as Record<string, { Value?: unknown[] }>[];
      const [alphabetic, ideographic, phonetic] = names[characterSet].split('=');
      const name = study?.['00100010']?.Value?.[0];
      if (characterSet === 'ISO 2022 IR 13') {
        // Orthanc 1.10 decodes only the JIS X 0201 part of `ISO 2022 IR 13\ISO 2022 IR 87` and
        // shows kanji as raw 7-bit JIS (pydicom above reads them right).
        expect(name).toMatchObject({ Alphabetic: alphabetic });
      } else {
        expect(name).toEqual({ Alphabetic: alphabetic, Ideographic: ideographic, Phonetic: phonetic });
        expect(study?.['00081030']?.Value?.[0]).toBe('胸部単純CT');
      }
    });
  }

  it('writes a 300-slice 512×512 CT slice by slice', async () => {
    const series = await writeTestSeries({
      dir: join(dir, 'big'),
      modality: 'CT',
      slices: 300,
      rows: 512,
      columns: 512,
      patientName: names['ISO_IR 192'],
      patientId: 'P-BIG',
      characterSet: 'ISO_IR 192',
      seed: 'big',
    });
    expect(series.instances).toHaveLength(300);
    expect((await stat(series.instances[299]!.path)).size).toBeGreaterThan(512 * 512 * 2);
    expect(pydicomRead(series.instances[299]!.path, 'd.SliceLocation')).toBe('-373.75');
  });
});
