import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestOrthanc, type PrivateOrthanc } from './private-orthanc.ts';

const CT_SMALL = '/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm';

describe('private Orthanc', () => {
  let orthanc: PrivateOrthanc;
  beforeAll(async () => {
    orthanc = await startTestOrthanc();
  });
  afterAll(async () => {
    await orthanc?.stop();
  });

  it('stores a Part 10 file and finds it through QIDO-RS', async () => {
    const [stored] = await orthanc.storeFiles([CT_SMALL]);
    expect(stored?.Status).toBe('Success');
    const url = new URL('studies', orthanc.dicomWebUrl);
    url.searchParams.set('PatientID', '1CT1');
    const response = await fetch(url, { headers: { Accept: 'application/dicom+json' } });
    expect(response.status).toBe(200);
    const studies = (await response.json()) as Record<string, { Value?: unknown[] }>[];
    expect(studies).toHaveLength(1);
    expect(studies[0]?.['0020000D']?.Value?.[0]).toBe('1.3.6.1.4.1.5962.1.2.1.20040119072730.12322');
  });

  it('runs with the DICOMweb plugin, UTF-8 default encoding and no remote access', async () => {
    const system = (await (await fetch(`${orthanc.httpUrl}/system`)).json()) as { DicomAet: string };
    expect(system.DicomAet).toBe(orthanc.aet);
    const plugins = (await (await fetch(`${orthanc.httpUrl}/plugins`)).json()) as string[];
    expect(plugins).toContain('dicom-web');
    const encoding = await (await fetch(`${orthanc.httpUrl}/tools/default-encoding`)).text();
    expect(encoding.trim()).toBe('Utf8');
  });
});
