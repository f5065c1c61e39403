/**
 * The dashboard talks only to the public HTTP API, with the signed-in
 * token. The token lives in sessionStorage (gone when the tab closes) and
 * travels in the Authorization header, never in a URL.
 */
const KEY = "workledger.token";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
  /** Someone else acted first: claimed it, changed it, or the transition is no longer allowed. */
  get conflict(): boolean {
    return this.status === 409 || this.status === 410;
  }
}

export const session = {
  token: (): string | null => sessionStorage.getItem(KEY),
  save: (token: string): void => sessionStorage.setItem(KEY, token),
  clear: (): void => sessionStorage.removeItem(KEY),
};

export const authHeader = (token = session.token()): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

export async function api<T>(method: "GET" | "POST" | "PATCH", path: string, body?: unknown, token?: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: { ...authHeader(token), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, "UNAVAILABLE", `the server cannot be reached (${(e as Error).message})`, "check that workledger serve is running");
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // fall through: a non-JSON answer is reported below
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; hint?: string; details?: Record<string, unknown> } } | null)?.error;
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? (res.statusText || "request failed"), e?.hint, e?.details);
  }
  return json as T;
}

export const enc = encodeURIComponent;

/** `/v1/projects/{project}/wos[/{id}]`. */
export const woPath = (project: string, id?: number): string => `/v1/projects/${enc(project)}/wos${id === undefined ? "" : `/${id}`}`;

/** Where the project's event stream stands now: views load after reading it and follow from it, so nothing falls between. */
export const lastSeq = async (project: string): Promise<number> => (await api<{ seq: number }>("GET", `/v1/events/last?project=${enc(project)}`)).seq;
