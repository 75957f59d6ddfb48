import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import type { DicomJsonDataset } from './dicom-json.ts';

/**
 * On-the-fly de-identification for readers outside the patient's care: PS3.15 Annex E Basic
 * Application Level Confidentiality Profile with the Retain Patient Characteristics Option
 * (sex, age, size and weight stay: they matter for reading). Applied to DICOM JSON (QIDO
 * results, WADO-RS metadata) and to Part 10 files (WADO-RS instances; pixel data untouched).
 *
 * - Attributes of the profile's table below: removed (X), emptied (Z) or kept (K, the option).
 *   Any other person name, date, date-time or time is removed too (we do not retain
 *   longitudinal temporal information), as are private groups, curves and overlays (overlays
 *   may carry text), and sequences are cleaned item by item.
 * - UIDs are remapped, deterministically: `2.25.` + the decimal of the first 128 bits of
 *   HMAC-SHA256(key, sessionId + original UID). Every instance and every reload of a session
 *   maps the same way with nothing stored; another session gets other UIDs (readers cannot
 *   link sessions), and without the key nobody can test a guessed original UID. Standard
 *   class UIDs (`1.2.840.10008.*`, SOP class, transfer syntax, coding scheme) are kept.
 * - URLs (UR values, BulkDataURI) have their UID path segments remapped.
 * - PatientIdentityRemoved = YES, DeidentificationMethod(+CodeSequence), and
 *   LongitudinalTemporalInformationModified = REMOVED are set.
 * - An instance that has (or, for secondary capture, ultrasound and photographs, may have)
 *   burned-in annotation, or recognisable visual features, is refused: `DeidentificationRefusal`
 *   → the front answers 403 for it (or leaves it out of a metadata list, see `deidentifyMetadata`).
 *
 * For the front:
 *   const context = { sessionId: access.actor.sessionId, key: AUTH_SECRET (or a dedicated secret) };
 *   deidentifyDataset(dataset, context) / deidentifyMetadata(datasets, context) / deidentifyPart10(bytes, context)
 * Requests name remapped UIDs. The map is one-way, so the front resolves them by remapping
 * candidates and comparing (one HMAC each, microseconds):
 *   study:    findOriginalUid(uid, access.studies.filter(s => s.deidentify).map(s => s.studyInstanceUid), context)
 *   series:   findOriginalUid(uid, SeriesInstanceUIDs of a series-level search in the original study, context)
 *   instance: findOriginalUid(uid, SOPInstanceUIDs of an instance-level search in the original series, context)
 * A UID that matches no candidate is unknown (404/403); it must never be passed to a source as is.
 * The front must also build every URL it puts into a de-identified response (RetrieveURL,
 * BulkDataURI) from remapped UIDs, or pass it through here.
 */

export interface DeidentificationContext {
  sessionId: string;
  /** Secret key of the UID remapping (at least 32 characters). */
  key: string;
}

/** The instance must not be served de-identified: the front answers 403 and audits it. */
export class DeidentificationRefusal extends Error {
  readonly status = 403;
  readonly reason: 'burned-in-annotation' | 'recognizable-visual-features';
  constructor(reason: DeidentificationRefusal['reason']) {
    super(`instance not served de-identified: ${reason}`);
    this.name = 'DeidentificationRefusal';
    this.reason = reason;
  }
}

/** The Part 10 file could not be read or written (the front answers 502 for the source's file). */
export class DeidentificationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeidentificationError';
  }
}

type Action = 'X' | 'Z' | 'K';

/**
 * PS3.15 Table E.1-1, Basic Profile column (where the profile allows X/Z/D we remove or empty,
 * never invent dummies), with the Retain Patient Characteristics Option (K).
 */
const profileActions: Record<string, Action> = {
  // Dates and times of the study
  '00080012': 'X', // InstanceCreationDate
  '00080013': 'X', // InstanceCreationTime
  '00080015': 'X', // InstanceCoercionDateTime
  '00080020': 'Z', // StudyDate
  '00080021': 'X', // SeriesDate
  '00080022': 'X', // AcquisitionDate
  '00080023': 'Z', // ContentDate
  '0008002A': 'X', // AcquisitionDateTime
  '00080030': 'Z', // StudyTime
  '00080031': 'X', // SeriesTime
  '00080032': 'X', // AcquisitionTime
  '00080033': 'Z', // ContentTime
  '00080201': 'X', // TimezoneOffsetFromUTC
  // Institution, people, order
  '00080050': 'Z', // AccessionNumber
  '00080051': 'X', // IssuerOfAccessionNumberSequence
  '00080054': 'X', // RetrieveAETitle (names the PACS)
  '00080080': 'X', // InstitutionName
  '00080081': 'X', // InstitutionAddress
  '00080082': 'X', // InstitutionCodeSequence
  '00080090': 'Z', // ReferringPhysicianName
  '00080092': 'X', // ReferringPhysicianAddress
  '00080094': 'X', // ReferringPhysicianTelephoneNumbers
  '00080096': 'X', // ReferringPhysicianIdentificationSequence
  '0008009C': 'Z', // ConsultingPhysicianName
  '0008009D': 'X', // ConsultingPhysicianIdentificationSequence
  '00081010': 'X', // StationName
  '00081030': 'X', // StudyDescription
  '0008103E': 'X', // SeriesDescription
  '00081040': 'X', // InstitutionalDepartmentName
  '00081041': 'X', // InstitutionalDepartmentTypeCodeSequence
  '00081048': 'X', // PhysiciansOfRecord
  '00081049': 'X', // PhysiciansOfRecordIdentificationSequence
  '00081050': 'X', // PerformingPhysicianName
  '00081052': 'X', // PerformingPhysicianIdentificationSequence
  '00081060': 'X', // NameOfPhysiciansReadingStudy
  '00081062': 'X', // PhysiciansReadingStudyIdentificationSequence
  '00081070': 'X', // OperatorsName
  '00081072': 'X', // OperatorIdentificationSequence
  '00081080': 'X', // AdmittingDiagnosesDescription
  '00081084': 'X', // AdmittingDiagnosesCodeSequence
  '00081110': 'X', // ReferencedStudySequence
  '00081111': 'X', // ReferencedPerformedProcedureStepSequence
  '00081120': 'X', // ReferencedPatientSequence
  '00082111': 'X', // DerivationDescription
  '00084000': 'X', // IdentifyingComments
  // Patient
  '00100010': 'Z', // PatientName
  '00100020': 'Z', // PatientID
  '00100021': 'X', // IssuerOfPatientID
  '00100024': 'X', // IssuerOfPatientIDQualifiersSequence
  '00100030': 'Z', // PatientBirthDate
  '00100032': 'X', // PatientBirthTime
  '00100033': 'X', // PatientBirthDateInAlternativeCalendar
  '00100034': 'X', // PatientDeathDateInAlternativeCalendar
  '00100035': 'X', // PatientAlternativeCalendar
  '00100040': 'K', // PatientSex (Retain Patient Characteristics)
  '00100050': 'X', // PatientInsurancePlanCodeSequence
  '00100101': 'X', // PatientPrimaryLanguageCodeSequence
  '00100102': 'X', // PatientPrimaryLanguageModifierCodeSequence
  '00101000': 'X', // OtherPatientIDs
  '00101001': 'X', // OtherPatientNames
  '00101002': 'X', // OtherPatientIDsSequence
  '00101005': 'X', // PatientBirthName
  '00101010': 'K', // PatientAge (Retain Patient Characteristics)
  '00101020': 'K', // PatientSize (Retain Patient Characteristics)
  '00101030': 'K', // PatientWeight (Retain Patient Characteristics)
  '00101040': 'X', // PatientAddress
  '00101050': 'X', // InsurancePlanIdentification
  '00101060': 'X', // PatientMotherBirthName
  '00101080': 'X', // MilitaryRank
  '00101081': 'X', // BranchOfService
  '00101090': 'X', // MedicalRecordLocator
  '00101100': 'X', // ReferencedPatientPhotoSequence
  '00102000': 'X', // MedicalAlerts
  '00102110': 'X', // Allergies
  '00102150': 'X', // CountryOfResidence
  '00102152': 'X', // RegionOfResidence
  '00102154': 'X', // PatientTelephoneNumbers
  '00102155': 'X', // PatientTelecomInformation
  '00102160': 'X', // EthnicGroup
  '00102180': 'X', // Occupation
  '001021A0': 'X', // SmokingStatus
  '001021B0': 'X', // AdditionalPatientHistory
  '001021C0': 'X', // PregnancyStatus
  '001021D0': 'X', // LastMenstrualDate
  '001021F0': 'X', // PatientReligiousPreference
  '00102203': 'X', // PatientSexNeutered
  '00102297': 'X', // ResponsiblePerson
  '00102299': 'X', // ResponsibleOrganization
  '00104000': 'X', // PatientComments
  // Equipment and acquisition
  '00180010': 'Z', // ContrastBolusAgent
  '00181000': 'X', // DeviceSerialNumber
  '00181004': 'X', // PlateID
  '00181005': 'X', // GeneratorID
  '00181007': 'X', // CassetteID
  '00181008': 'X', // GantryID
  '00181030': 'X', // ProtocolName
  '00181400': 'X', // AcquisitionDeviceProcessingDescription
  '00184000': 'X', // AcquisitionComments
  '0018700A': 'X', // DetectorID
  '00189424': 'X', // AcquisitionProtocolDescription
  '0018A003': 'X', // ContributionDescription
  '00200010': 'Z', // StudyID
  '00203401': 'X', // ModifyingDeviceID
  '00203404': 'X', // ModifyingDeviceManufacturer
  '00203406': 'X', // ModifiedImageDescription
  '00204000': 'X', // ImageComments
  '00209158': 'X', // FrameComments
  '00280303': 'X', // LongitudinalTemporalInformationModified (set again below)
  // Requests, visits, procedure steps
  '00321030': 'X', // ReasonForStudy
  '00321032': 'X', // RequestingPhysician
  '00321033': 'X', // RequestingService
  '00321060': 'X', // RequestedProcedureDescription
  '00321070': 'X', // RequestedContrastAgent
  '00324000': 'X', // StudyComments
  '00380010': 'X', // AdmissionID
  '00380014': 'X', // IssuerOfAdmissionIDSequence
  '0038001E': 'X', // ScheduledPatientInstitutionResidence
  '00380060': 'X', // ServiceEpisodeID
  '00380062': 'X', // ServiceEpisodeDescription
  '00380300': 'X', // CurrentPatientLocation
  '00380400': 'X', // PatientInstitutionResidence
  '00380500': 'X', // PatientState
  '00384000': 'X', // VisitComments
  '00400001': 'X', // ScheduledStationAETitle
  '00400006': 'X', // ScheduledPerformingPhysicianName
  '00400007': 'X', // ScheduledProcedureStepDescription
  '00400009': 'X', // ScheduledProcedureStepID
  '00400010': 'X', // ScheduledStationName
  '00400011': 'X', // ScheduledProcedureStepLocation
  '00400241': 'X', // PerformedStationAETitle
  '00400242': 'X', // PerformedStationName
  '00400243': 'X', // PerformedLocation
  '00400253': 'X', // PerformedProcedureStepID
  '00400254': 'X', // PerformedProcedureStepDescription
  '00400275': 'X', // RequestAttributesSequence
  '00400280': 'X', // CommentsOnThePerformedProcedureStep
  '00400555': 'X', // AcquisitionContextSequence
  '00401001': 'X', // RequestedProcedureID
  '00401004': 'X', // PatientTransportArrangements
  '00401005': 'X', // RequestedProcedureLocation
  '00401010': 'X', // NamesOfIntendedRecipientsOfResults
  '00401011': 'X', // IntendedRecipientsOfResultsIdentificationSequence
  '00401101': 'X', // PersonIdentificationCodeSequence
  '00401102': 'X', // PersonAddress
  '00401103': 'X', // PersonTelephoneNumbers
  '00401400': 'X', // RequestedProcedureComments
  '00402001': 'X', // ReasonForTheImagingServiceRequest
  '00402008': 'X', // OrderEnteredBy
  '00402009': 'X', // OrderEntererLocation
  '00402010': 'X', // OrderCallbackPhoneNumber
  '00402016': 'Z', // PlacerOrderNumberImagingServiceRequest
  '00402017': 'Z', // FillerOrderNumberImagingServiceRequest
  '00402400': 'X', // ImagingServiceRequestComments
  '00403001': 'X', // ConfidentialityConstraintOnPatientDataDescription
  '0040A027': 'X', // VerifyingOrganization
  '0040A073': 'X', // VerifyingObserverSequence
  '0040A078': 'X', // AuthorObserverSequence
  '0040A07A': 'X', // ParticipantSequence
  '0040A07C': 'X', // CustodialOrganizationSequence
  '0040A123': 'X', // PersonName
  '0040A730': 'X', // ContentSequence (report text)
  '00700084': 'Z', // ContentCreatorName
  '00700086': 'X', // ContentCreatorIdentificationCodeSequence
  '00880200': 'X', // IconImageSequence (a thumbnail may show what the image burns in)
  '300E0008': 'X', // ReviewerName
  '40000010': 'X', // Arbitrary
  '40004000': 'X', // TextComments
  FFFAFFFA: 'X', // DigitalSignaturesSequence (no longer valid)
  FFFCFFFC: 'X', // DataSetTrailingPadding
};

/** UI attributes naming a kind of thing, not an instance: never remapped. */
const classUidTags = new Set([
  '00020002', // MediaStorageSOPClassUID
  '00020010', // TransferSyntaxUID
  '00080016', // SOPClassUID
  '0008001A', // RelatedGeneralSOPClassUID
  '0008001B', // OriginalSpecializedSOPClassUID
  '0008010C', // CodingSchemeUID
  '0008010D', // ContextGroupExtensionCreatorUID
  '00080117', // ContextUID
  '00080118', // MappingResourceUID
  '00081150', // ReferencedSOPClassUID
  '00081490', // (InstanceAvailability is CS; kept for clarity of intent)
  '00083002', // AvailableTransferSyntaxUID
  '00041510', // ReferencedSOPClassUIDInFile
  '00041512', // ReferencedTransferSyntaxUIDInFile
]);

const STANDARD_UID_ROOT = '1.2.840.10008.';
/** UID-shaped URL path segments (loose: malformed UIDs are remapped too). */
const UID_SEGMENT = /^[0-9]+(\.[0-9]+)+$/;

/** SOP classes that often carry text in the pixels: refused unless they say BurnedInAnnotation NO. */
const oftenBurnedIn = [
  '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture (and the multi-frame ones below it)
  '1.2.840.10008.5.1.4.1.1.6.1', // Ultrasound
  '1.2.840.10008.5.1.4.1.1.3.1', // Ultrasound Multi-frame
  '1.2.840.10008.5.1.4.1.1.77.1', // Visible Light (endoscopy, photographs)
];

export const DEIDENTIFICATION_METHOD =
  'PS3.15 E.1 Basic Profile; Retain Patient Characteristics Option (telemed proxy)';

/** The remapped UID of `uid` in the session: `2.25.<decimal of 128 bits of HMAC>` (≤ 44 characters). */
export function remapUid(uid: string, context: DeidentificationContext): string {
  if (context.key.length < 32)
    throw new DeidentificationError('the de-identification key must be at least 32 characters');
  const digest = createHmac('sha256', context.key).update(`${context.sessionId}\u0000${uid}`).digest();
  return `2.25.${BigInt(`0x${digest.subarray(0, 16).toString('hex')}`).toString(10)}`;
}

/** The original among `candidates` that remaps to `remapped`, or null. */
export function findOriginalUid(
  remapped: string,
  candidates: Iterable<string>,
  context: DeidentificationContext,
): string | null {
  for (const candidate of candidates) if (remapUid(candidate, context) === remapped) return candidate;
  return null;
}

/** Any attribute as DICOM JSON has it, or as dcmjs reads it (binary values as ArrayBuffers). */
interface Attribute {
  vr: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}
type Dataset = Record<string, Attribute>;

const text = (attribute: Attribute | undefined) =>
  typeof attribute?.Value?.[0] === 'string' ? attribute.Value[0].trim().toUpperCase() : undefined;

function refusal(dataset: Dataset): DeidentificationRefusal | null {
  const burnedIn = text(dataset['00280301']);
  if (burnedIn === 'YES') return new DeidentificationRefusal('burned-in-annotation');
  if (text(dataset['00280302']) === 'YES') return new DeidentificationRefusal('recognizable-visual-features');
  const sopClass = text(dataset['00080016']);
  if (
    burnedIn !== 'NO' &&
    sopClass &&
    oftenBurnedIn.some((root) => sopClass === root || sopClass.startsWith(`${root}.`))
  ) {
    return new DeidentificationRefusal('burned-in-annotation');
  }
  return null;
}

/** Every instance UID is remapped, even a malformed one (leading zeros are common in the wild). */
function remapValue(value: unknown, context: DeidentificationContext): unknown {
  if (typeof value !== 'string') return value;
  const uid = value.trim();
  return uid === '' || uid.startsWith(STANDARD_UID_ROOT) ? uid : remapUid(uid, context);
}

/** A URL with every UID-shaped path segment remapped (the host is left alone: it may look like a UID). */
function remapUrl(value: string, context: DeidentificationContext): string {
  const [beforeQuery = '', query] = value.split(/(?=[?#])/, 2);
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(beforeQuery)?.[0] ?? '';
  const path = beforeQuery
    .slice(origin.length)
    .split('/')
    .map((segment) => (UID_SEGMENT.test(segment) ? String(remapValue(segment, context)) : segment))
    .join('/');
  // Query parameters may name UIDs too; keep none rather than parse them.
  return `${origin}${path}${query === undefined ? '' : query.startsWith('#') ? query : ''}`;
}

function isRemovedGroup(tag: string): boolean {
  const group = Number.parseInt(tag.slice(0, 4), 16);
  if (Number.isNaN(group) || group % 2 === 1) return true; // private
  return (group >= 0x5000 && group <= 0x501e) || (group >= 0x6000 && group <= 0x601e); // curves, overlays
}

function cleanAttribute(tag: string, attribute: Attribute, context: DeidentificationContext): Attribute | null {
  const action = profileActions[tag];
  if (action === 'X') return null;
  if (action === 'Z') return { vr: attribute.vr };
  if (action === 'K') return attribute;
  switch (attribute.vr) {
    case 'PN':
    case 'DA':
    case 'DT':
    case 'TM':
      return null;
    case 'UI':
      if (classUidTags.has(tag) || !attribute.Value) return attribute;
      return { vr: 'UI', Value: attribute.Value.map((value) => remapValue(value, context)) };
    case 'UR':
      return attribute.Value
        ? {
            vr: 'UR',
            Value: attribute.Value.map((value) => (typeof value === 'string' ? remapUrl(value, context) : value)),
          }
        : attribute;
    case 'SQ':
      return {
        vr: 'SQ',
        Value: (attribute.Value ?? []).map((item) => cleanDataset(item as Dataset, context)),
      };
    default:
      return attribute.BulkDataURI
        ? { ...attribute, BulkDataURI: remapUrl(attribute.BulkDataURI, context) }
        : attribute;
  }
}

function cleanDataset(dataset: Dataset, context: DeidentificationContext): Dataset {
  const cleaned: Dataset = {};
  for (const [rawTag, attribute] of Object.entries(dataset)) {
    const tag = rawTag.toUpperCase();
    if (!/^[0-9A-F]{8}$/.test(tag) || isRemovedGroup(tag)) continue;
    const kept = cleanAttribute(tag, attribute, context);
    if (kept) cleaned[tag] = kept;
  }
  return cleaned;
}

const code = (value: string, meaning: string): Dataset => ({
  '00080100': { vr: 'SH', Value: [value] },
  '00080102': { vr: 'SH', Value: ['DCM'] },
  '00080104': { vr: 'LO', Value: [meaning] },
});

function deidentifyAny(dataset: Dataset, context: DeidentificationContext): Dataset {
  const refused = refusal(dataset);
  if (refused) throw refused;
  const cleaned = cleanDataset(dataset, context);
  cleaned['00120062'] = { vr: 'CS', Value: ['YES'] };
  cleaned['00120063'] = { vr: 'LO', Value: [DEIDENTIFICATION_METHOD] };
  cleaned['00120064'] = {
    vr: 'SQ',
    Value: [
      code('113100', 'Basic Application Confidentiality Profile'),
      code('113108', 'Retain Patient Characteristics Option'),
    ],
  };
  cleaned['00280303'] = { vr: 'CS', Value: ['REMOVED'] };
  return cleaned;
}

/** One DICOM JSON dataset, de-identified (a new object). Throws `DeidentificationRefusal`. */
export function deidentifyDataset(dataset: DicomJsonDataset, context: DeidentificationContext): DicomJsonDataset {
  return deidentifyAny(dataset as Dataset, context) as DicomJsonDataset;
}

/** Many datasets (a metadata or search answer): refused instances are left out and counted. */
export function deidentifyMetadata(
  datasets: readonly DicomJsonDataset[],
  context: DeidentificationContext,
): { datasets: DicomJsonDataset[]; withheld: number } {
  const kept: DicomJsonDataset[] = [];
  let withheld = 0;
  for (const dataset of datasets) {
    try {
      kept.push(deidentifyDataset(dataset, context));
    } catch (error) {
      if (!(error instanceof DeidentificationRefusal)) throw error;
      withheld += 1;
    }
  }
  return { datasets: kept, withheld };
}

// dcmjs ships no type declarations: the little of it used here (read and write one Part 10
// file; it is the only maintained JS library that writes Part 10) is typed by hand.
interface DcmjsDicomDict {
  meta: Dataset;
  dict: Dataset;
  write(options?: { fragmentMultiframe?: boolean; allowInvalidVRLength?: boolean }): ArrayBuffer;
}
interface DcmjsData {
  DicomMessage: { readFile(buffer: ArrayBuffer, options: { ignoreErrors: boolean }): DcmjsDicomDict };
  DicomDict: new (meta: Dataset) => DcmjsDicomDict;
}
let dcmjsData: DcmjsData | undefined;
/** dcmjs (a 2.7 MB bundle, ~10 MB resident once compiled) is loaded at the first de-identified Part 10 file. */
function dcmjs(): DcmjsData {
  dcmjsData ??= (createRequire(import.meta.url)('dcmjs') as { data: DcmjsData }).data;
  return dcmjsData;
}

/** File meta elements that may name the sending system; dropped. */
const droppedMetaTags = new Set(['00020000', '00020016', '00020017', '00020018', '00020100', '00020102']);

/**
 * dcmjs reads a multi-valued Specific Character Set (`\ISO 2022 IR 87`, the usual Japanese one)
 * with its first, single-byte set only, so JIS X 0208 text arrives as 7-bit escape sequences.
 * Those bytes survive the single-byte reading unchanged; decoded again as ISO-2022-JP they give
 * the text (delimiters are split again afterwards, since a kanji byte may look like `\`).
 */
function redecodeIso2022(dataset: Dataset, charset: string): void {
  if (!/ISO 2022 IR (87|159)/.test(charset)) return;
  const decoder = new TextDecoder('iso-2022-jp');
  for (const attribute of Object.values(dataset)) {
    if (attribute.vr === 'SQ') {
      for (const item of attribute.Value ?? []) redecodeIso2022(item as Dataset, charset);
      continue;
    }
    // Person names are all removed or emptied by the profile; other text keeps its meaning.
    if (!['LO', 'SH', 'ST', 'LT', 'UT', 'UC'].includes(attribute.vr) || !attribute.Value) continue;
    const joined = attribute.Value.map(String).join('\\');
    if (!joined.includes('\u001b')) continue;
    const decoded = decoder.decode(Buffer.from(joined, 'latin1'));
    attribute.Value = ['LO', 'SH', 'UC'].includes(attribute.vr) ? decoded.split('\\') : [decoded];
  }
}

/** One Part 10 instance, de-identified (pixel data as it was). Throws `DeidentificationRefusal` or `DeidentificationError`. */
export function deidentifyPart10(part10: Uint8Array, context: DeidentificationContext): Uint8Array {
  let file: DcmjsDicomDict;
  const originalCharset = readSpecificCharacterSet(part10);
  try {
    const copy = part10.buffer.slice(part10.byteOffset, part10.byteOffset + part10.byteLength) as ArrayBuffer;
    file = dcmjs().DicomMessage.readFile(copy, { ignoreErrors: true });
  } catch (error) {
    throw new DeidentificationError('the Part 10 file could not be read', { cause: error });
  }
  if (originalCharset) redecodeIso2022(file.dict, originalCharset);
  const dataset = deidentifyAny(file.dict, context);
  const meta: Dataset = {};
  for (const [tag, attribute] of Object.entries(file.meta)) {
    if (droppedMetaTags.has(tag)) continue;
    meta[tag] =
      tag === '00020003' ? { vr: 'UI', Value: (attribute.Value ?? []).map((v) => remapValue(v, context)) } : attribute;
  }
  try {
    const output = new (dcmjs().DicomDict)(meta);
    output.dict = dataset;
    return new Uint8Array(output.write({ fragmentMultiframe: false, allowInvalidVRLength: true }));
  } catch (error) {
    throw new DeidentificationError('the de-identified Part 10 file could not be written', { cause: error });
  }
}

/**
 * The raw Specific Character Set, read before dcmjs rewrites it: `(0008,0005)` near the start,
 * explicit VR (`CS`, 2-byte length) or implicit VR (4-byte length), little endian.
 */
function readSpecificCharacterSet(part10: Uint8Array): string | null {
  const bytes = Buffer.from(part10.buffer, part10.byteOffset, Math.min(part10.byteLength, 64 * 1024));
  const at = bytes.indexOf(Buffer.from([0x08, 0x00, 0x05, 0x00]));
  if (at < 0 || at + 8 > bytes.length) return null;
  const explicit = bytes[at + 4] === 0x43 && bytes[at + 5] === 0x53;
  const length = explicit ? bytes.readUInt16LE(at + 6) : bytes.readUInt32LE(at + 4);
  const start = at + 8;
  return length > 0 && length <= 128 ? bytes.subarray(start, start + length).toString('latin1') : null;
}
