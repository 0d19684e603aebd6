/** A JSON call against a test server's `/v1` routes with an API key: status and parsed body, never throws on 4xx. */
export function jsonApi(baseUrl: () => string) {
  return async (
    key: string,
    path: string,
    init: RequestInit & { headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${baseUrl()}/v1${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${key}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
}
