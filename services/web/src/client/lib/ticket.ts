/**
 * The enrollment ticket travels from the register page to the enroll page in
 * sessionStorage: it survives a reload of this tab but not the tab itself.
 */
const KEY = 'faceline.enrollTicket';

export interface StoredTicket {
  ticket: string;
  expiresAt: string;
  displayName?: string;
}

export function saveTicket(ticket: string, expiresAt: string, displayName?: string): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ ticket, expiresAt, displayName } satisfies StoredTicket));
  } catch {
    /* storage disabled: the enroll page asks for a new ticket */
  }
}

export function loadTicket(now = Date.now()): StoredTicket | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const t = JSON.parse(raw) as StoredTicket;
    if (typeof t.ticket !== 'string' || !(Date.parse(t.expiresAt) > now)) return null;
    return t;
  } catch {
    return null;
  }
}

export function clearTicket(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* nothing stored */
  }
}
