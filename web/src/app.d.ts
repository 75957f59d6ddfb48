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
    }
  }
}

export {};
