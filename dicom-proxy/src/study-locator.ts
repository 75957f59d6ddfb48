import { FrontError } from './front-errors.ts';
import { SourceError, type StudySource } from './study-source.ts';

/**
 * Which configured PACS holds a study: the first source (in configuration order) that finds it.
 * The answer is remembered (bounded), so later requests for the study go straight there.
 */
export class StudyLocator {
  private readonly sources: readonly StudySource[];
  private readonly known = new Map<string, StudySource>();
  private readonly maxRemembered: number;

  constructor(sources: readonly StudySource[], maxRemembered = 10_000) {
    this.sources = sources;
    this.maxRemembered = maxRemembered;
  }

  /** Notes where a study was seen (e.g. in a QIDO answer), so no lookup is needed later. */
  remember(studyInstanceUid: string, source: StudySource): void {
    if (this.known.has(studyInstanceUid)) return;
    if (this.known.size >= this.maxRemembered) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
    this.known.set(studyInstanceUid, source);
  }

  byId(sourceId: string): StudySource | undefined {
    return this.sources.find((source) => source.id === sourceId);
  }

  /** The source holding the study; 404 when none has it, the first source's failure when none could answer. */
  async locate(studyInstanceUid: string, signal?: AbortSignal): Promise<StudySource> {
    const remembered = this.known.get(studyInstanceUid);
    if (remembered) return remembered;
    let failure: SourceError | undefined;
    for (const source of this.sources) {
      try {
        const found = await source.search(
          {
            level: 'study',
            match: { StudyInstanceUID: studyInstanceUid },
            includeFields: [],
            fuzzyMatching: false,
            limit: 1,
            offset: 0,
          },
          signal,
        );
        if (found.length > 0) {
          this.remember(studyInstanceUid, source);
          return source;
        }
      } catch (error) {
        if (!(error instanceof SourceError)) throw error;
        failure ??= error;
      }
    }
    if (failure) throw failure;
    throw new FrontError(404, 'not_found', `no configured source has study ${studyInstanceUid}`);
  }
}
