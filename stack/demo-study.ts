import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_STUDY_INSTANCE_UID } from '@telemed/domain';
import { testUid, writeTestSeries, type TestSeriesOptions } from './dicom-test-series.ts';
import type { PrivateOrthanc } from './private-orthanc.ts';

/**
 * The demo PACS content, generated on first start and stored in the private Orthanc unless it is
 * there already: a chest CT of a (fictitious) island patient, attached to the demo conference by
 * its fixed Study Instance UID, and the same patient's CT of the year before, not attached — the
 * prior a reader asks for, found and shared from the room's study browser.
 */

const demoPatient = {
  patientName: 'Yamada^Taro=山田^太郎=やまだ^たろう',
  patientId: 'AO-2026-0142',
  characterSet: 'ISO 2022 IR 87',
  modality: 'CT',
  rows: 256,
  columns: 256,
} as const;

/** The demo patient's prior CT: in the demo PACS, not attached to any session. */
export const DEMO_PRIOR_STUDY_INSTANCE_UID = testUid('demo-chest-ct-prior', 'study');

const demoStudies: Omit<TestSeriesOptions, 'dir'>[] = [
  {
    ...demoPatient,
    slices: 40,
    studyInstanceUid: DEMO_STUDY_INSTANCE_UID,
    studyDescription: '胸部CT（デモ）',
    seriesDescription: '胸部 単純 5mm',
    sliceThickness: 5,
    seed: 'demo-chest-ct',
  },
  {
    ...demoPatient,
    slices: 20,
    studyInstanceUid: DEMO_PRIOR_STUDY_INSTANCE_UID,
    studyDate: '20240110',
    studyDescription: '胸部CT 前回（デモ）',
    seriesDescription: '胸部 単純 10mm',
    sliceThickness: 10,
    seed: 'demo-chest-ct-prior',
  },
];

async function holds(orthanc: PrivateOrthanc, studyInstanceUid: string): Promise<boolean> {
  const query = new URL('studies', orthanc.dicomWebUrl);
  query.searchParams.set('StudyInstanceUID', studyInstanceUid);
  const found = await fetch(query, { headers: { accept: 'application/dicom+json' } });
  if (!found.ok) throw new Error(`Orthanc answered ${found.status} to a study query`);
  const text = await found.text();
  return text.trim() !== '' && (JSON.parse(text) as unknown[]).length > 0;
}

/** Stores the demo studies the PACS does not hold yet; says whether it stored any. */
export async function ensureDemoStudy(orthanc: PrivateOrthanc): Promise<'present' | 'stored'> {
  let stored = false;
  for (const study of demoStudies) {
    if (await holds(orthanc, study.studyInstanceUid!)) continue;
    const dir = await mkdtemp(join(tmpdir(), 'telemed-demo-study-'));
    try {
      const series = await writeTestSeries({ ...study, dir });
      await orthanc.storeFiles(series.instances.map((instance) => instance.path));
      stored = true;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return stored ? 'stored' : 'present';
}
