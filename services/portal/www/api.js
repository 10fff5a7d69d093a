// The portal's JSON API as the page uses it: session cookie, X-CSRF-Token on writes, and
// errors turned into ApiError carrying the API's own {"error":{"message"}}.

const API = '/api/v1';

let csrfToken = '';
let csrfRefresh = null;   // async () => void: reloads the session (and its CSRF token)

// The session's CSRF token, sent on every request other than GET ('' when logged out).
export function setCsrf(token) {
    csrfToken = token || '';
}

// Called once when a write is refused for its CSRF token, before one retry.
export function setCsrfRefresh(fn) {
    csrfRefresh = fn;
}

export class ApiError extends Error {
    constructor(status, code, message, details = {}) {
        super(message);
        this.status = status;
        this.code = code;
        this.details = details;   // the whole {"error":{...}} object
    }
}

export function describeStatus(status) {
    const words = {
        400: 'the request was not valid', 401: 'you are not logged in',
        403: 'this action is not allowed', 404: 'not found', 409: 'it already exists',
        413: 'the request is too large', 422: 'the request was refused',
        429: 'too many attempts, try again later', 402: 'your plan does not allow this',
    };
    return words[status] || (status >= 500 ? 'the server had a problem' : `error ${status}`);
}

// One call to the API. body is sent as JSON, or as it is when contentType is given (an
// uploaded document). Resolves to the parsed JSON (or text for non-JSON answers); rejects
// with ApiError carrying the API's own message.
export async function api(method, path, body, opts = {}) {
    const { retried = false, accept, contentType } = opts;
    const headers = { Accept: accept || 'application/json' };
    if (body !== undefined) {
        headers['Content-Type'] = contentType || 'application/json';
    }
    if (method !== 'GET' && csrfToken) {
        headers['X-CSRF-Token'] = csrfToken;
    }
    let res;
    try {
        res = await fetch(API + path, {
            method, headers, credentials: 'same-origin',
            body: body === undefined || contentType ? body : JSON.stringify(body),
        });
    } catch (err) {
        throw new ApiError(0, 'network', 'Vigil cannot be reached. Check your connection.');
    }
    const type = res.headers.get('Content-Type') || '';
    const text = await res.text();
    let data = text;
    if (type.includes('json') && text) {
        try {
            data = JSON.parse(text);
        } catch (err) {
            data = text;
        }
    }
    if (res.ok) {
        return data;
    }
    const error = data && typeof data === 'object' ? data.error || {} : {};
    if (res.status === 403 && error.code === 'csrf' && !retried && csrfToken && csrfRefresh) {
        await csrfRefresh();              // the token changed (new session): retry once
        return api(method, path, body, { ...opts, retried: true });
    }
    const message = error.message || `Request failed: ${describeStatus(res.status)}.`;
    throw new ApiError(res.status, error.code || String(res.status), message, error);
}

// The items of a list answer, whatever its envelope: [..], {items}, {data}, {<key>}.
export function itemsOf(data, key) {
    if (Array.isArray(data)) {
        return data;
    }
    if (data && typeof data === 'object') {
        for (const k of [key, 'items', 'data', 'results']) {
            if (Array.isArray(data[k])) {
                return data[k];
            }
        }
    }
    return [];
}

export function nextCursorOf(data) {
    if (!data || typeof data !== 'object' || Array.isArray(data)) {
        return null;
    }
    return data.next_cursor || data.next || data.cursor || null;
}
