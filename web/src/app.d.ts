import type {} from '@telemed/contract/qa-hooks';
import type { Language } from '#lib/i18n.ts';
import type { SignedInAccount } from '#lib/server/signin.ts';

declare global {
  namespace App {
    interface Locals {
      account: SignedInAccount | null;
      language: Language;
    }
    interface Error {
      message: string;
      code?: string;
      /** A refused conference room: where to ask the host to be let in (the waiting room). */
      lobbyPath?: string;
      /** A conference room not open (yet or any more), shown to invited accounts only. */
      schedule?: {
        startsAt: string;
        endsAt: string;
        /** When the room opens (15 minutes before the start). */
        opensAt: string;
        phase: 'scheduled' | 'ended' | 'cancelled';
      };
    }
  }
}

export {};
