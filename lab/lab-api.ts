/**
 * The teaching lab (issue 20) talks to a running service only through its public HTTP API, so an
 * experiment does exactly what a learner could do with curl, and the same code can run from the
 * CLI (`lambda-arch lab`) or the dashboard's Experiments panel. This is the port it needs;
 * `httpLabApi` is the fetch adapter (fetch is in Node 20 and in every browser).
 */
export interface LabResponse {
  status: number;
  body: unknown;
}

export interface LabApi {
  get(path: string): Promise<LabResponse>;
  /** NDJSON or JSON text; `admin` sends the admin token */
  post(path: string, body: string, opts?: { admin?: boolean; contentType?: string }): Promise<LabResponse>;
  /** a JSON body, with the admin token (the runtime switches of issue 20 are admin-only) */
  put(path: string, body: unknown): Promise<LabResponse>;
}

export function httpLabApi(baseUrl: string, adminToken?: string): LabApi {
  const call = async (path: string, init?: RequestInit): Promise<LabResponse> => {
    const res = await fetch(new URL(path, baseUrl), init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the text is the body
    }
    return { status: res.status, body };
  };
  return {
    get: (path) => call(path),
    post: (path, body, opts = {}) =>
      call(path, {
        method: 'POST',
        body,
        headers: {
          'content-type': opts.contentType ?? 'application/x-ndjson',
          ...(opts.admin && adminToken ? { authorization: `Bearer ${adminToken}` } : {}),
        },
      }),
    put: (path, body) =>
      call(path, {
        method: 'PUT',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...(adminToken ? { authorization: `Bearer ${adminToken}` } : {}) },
      }),
  };
}

/** An admin call refused for want of the token: an error that says how to give it. */
export function expectAdminOk(what: string, r: LabResponse): Record<string, unknown> {
  if (r.status === 401 || r.status === 403) throw new Error(`${what} needs the admin token (--admin-token or LAMBDA_ADMIN_TOKEN): HTTP ${r.status}`);
  return expectOk(what, r);
}

/** A non-2xx answer as an error that names the call and what the service said. */
export function expectOk(what: string, r: LabResponse): Record<string, unknown> {
  if (r.status >= 200 && r.status < 300 && typeof r.body === 'object' && r.body !== null) return r.body as Record<string, unknown>;
  const detail = typeof r.body === 'object' && r.body !== null ? ((r.body as { detail?: string }).detail ?? JSON.stringify(r.body)) : String(r.body);
  throw new Error(`${what}: HTTP ${r.status}: ${detail.slice(0, 500)}`);
}
