import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_STUDY_INSTANCE_UID } from '@telemed/domain';
import { writeTestSeries } from './dicom-test-series.ts';
import type { PrivateOrthanc } from './private-orthanc.ts';

/**
 * The demo PACS content: one chest CT of a (fictitious) island patient, generated on first start
 * and stored in the private Orthanc unless it is there already. Its Study Instance UID is fixed,
 * so the demo conference's case can name it.
 */
export async function ensureDemoStudy(orthanc: PrivateOrthanc): Promise<'present' | 'stored'> {
  const query = new URL('studies', orthanc.dicomWebUrl);
  query.searchParams.set('StudyInstanceUID', DEMO_STUDY_INSTANCE_UID);
  const found = await fetch(query, { headers: { accept: 'application/dicom+json' } });
  if (!found.ok) throw new Error(`Orthanc answered ${found.status} to a study query`);
  const text = await found.text();
  if (text.trim() !== '' && (JSON.parse(text) as unknown[]).length > 0) return 'present';

  const dir = await mkdtemp(join(tmpdir(), 'telemed-demo-study-'));
  try {
    const series = await writeTestSeries({
      dir,
      modality: 'CT',
      slices: 40,
      rows: 256,
      columns: 256,
      patientName: 'Yamada^Taro=山田^太郎=やまだ^たろう',
      patientId: 'AO-2026-0142',
      characterSet: 'ISO 2022 IR 87',
      studyInstanceUid: DEMO_STUDY_INSTANCE_UID,
      studyDescription: '胸部CT（デモ）',
      seriesDescription: '胸部 単純 5mm',
      sliceThickness: 5,
      seed: 'demo-chest-ct',
    });
    await orthanc.storeFiles(series.instances.map((instance) => instance.path));
    return 'stored';
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
