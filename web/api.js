// Talking to territorio: JSON requests whose failures carry the server's problem document
// (RFC 9457 application/problem+json), and GeoJSON pages followed through rel=next links.

/**
 * A failed request: HTTP status, the problem's title and detail, and the URL asked; `problem`
 * is the whole problem document (its `invalid-params`, say) and `headers` the answer's headers
 * (the current `ETag` of a 412), when there was an answer.
 */
export class ApiProblem extends Error {
  constructor(status, title, detail, url, { problem = null, headers = null } = {}) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = "ApiProblem";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.url = url;
    this.problem = problem;
    this.headers = headers;
  }
}

/** fetch() that throws an ApiProblem for network failures and non-2xx answers. */
export async function request(url, options = {}) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiProblem(0, "Network error", `${e.message} (is territorio still running?)`, url);
  }
  if (response.ok) return response;
  let title = response.statusText || `HTTP ${response.status}`;
  let detail = "";
  let problem = null;
  const type = response.headers.get("content-type") || "";
  try {
    if (type.includes("json")) {
      problem = await response.json();
      title = problem.title || title;
      detail = problem.detail || "";
    } else {
      detail = (await response.text()).slice(0, 500);
    }
  } catch {
    // The body could not be read: the status line is all there is.
  }
  throw new ApiProblem(response.status, title, detail, url, { problem, headers: response.headers });
}

export async function getJSON(url, { signal } = {}) {
  const response = await request(url, { signal, headers: { Accept: "application/json" } });
  return response.json();
}

/** POSTs a JSON body (a GeoJSON geometry for the analysis endpoints). */
export async function postJSON(url, body, { signal } = {}) {
  const response = await request(url, {
    method: "POST",
    signal,
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return response.json();
}

/** `url` with these query parameters set (undefined and null values left out). */
export function withParams(url, params) {
  const u = new URL(url, document.baseURI);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") u.searchParams.set(k, String(v));
  }
  return u.href;
}

/** The href of a document's rel=next link to more GeoJSON, if any. */
export function nextLink(doc) {
  const next = (doc.links || []).find(
    (l) => l.rel === "next" && (!l.type || l.type.includes("json")),
  );
  return next ? next.href : null;
}

/**
 * All the features of an items query, page after page through rel=next links (as QGIS and
 * GDAL page), up to `maxFeatures`. Returns the features, numberMatched (when the server says)
 * and whether every page was read.
 */
export async function fetchFeatures(url, { signal, maxFeatures = Infinity, onPage } = {}) {
  const features = [];
  let matched;
  let next = url;
  let pages = 0;
  while (next && features.length < maxFeatures) {
    const page = await getJSON(next, { signal });
    pages += 1;
    if (matched === undefined && Number.isInteger(page.numberMatched)) matched = page.numberMatched;
    features.push(...page.features);
    if (onPage) onPage(features.length, matched);
    next = nextLink(page);
  }
  return { features, numberMatched: matched ?? features.length, complete: !next, pages };
}
