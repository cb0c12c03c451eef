import type { ClientConfig, MeResponse } from '@faceline/contracts';
import type { Lang, Messages } from '../i18n/index.js';

export interface AppContext {
  m: Messages;
  lang: Lang;
  navigate: (path: string, opts?: { replace?: boolean; state?: Record<string, unknown> }) => void;
  /** the signed-in person, or null; refreshed after sign-in and sign-out */
  me: () => MeResponse | null;
  refreshMe: () => Promise<MeResponse | null>;
  setMe: (me: MeResponse | null) => void;
  config: () => Promise<ClientConfig>;
  setTitle: (title: string) => void;
  /** one-shot message shown at the top of the next page (e.g. "account deleted") */
  flash: (message: string) => void;
}

/** A page draws into its root and returns what must be undone when it is left (camera, socket, timers). */
export type Page = (root: HTMLElement, ctx: AppContext) => void | (() => void) | Promise<void | (() => void)>;
