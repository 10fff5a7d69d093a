// A tiny JSON-to-YAML renderer (block style) for showing Kubernetes objects as text.
// Pure function, no DOM: the result is only ever inserted with textContent.

const PLAIN = /^[A-Za-z0-9_./@:-][A-Za-z0-9_ ./@:*-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|~|-?[0-9][0-9_.eE+-]*)$/i;

export function yamlScalar(value) {
    if (value === null || value === undefined) {
        return 'null';
    }
    if (typeof value === 'number' || typeof value === 'boolean') {
        return String(value);
    }
    const text = String(value);
    if (text && PLAIN.test(text) && !RESERVED.test(text) && !/: |:$| #|\s$/.test(text)) {
        return text;
    }
    return JSON.stringify(text);
}

// Kubernetes objects read best in their usual key order (jsonb stores keys sorted by length):
// these keys come first, in this order; any other key follows in its own order.
const KEY_ORDER = ['apiVersion', 'kind', 'metadata', 'name', 'namespace', 'labels',
    'annotations', 'spec', 'selector', 'matchLabels', 'action', 'provider', 'rules', 'from',
    'to', 'when', 'source', 'operation', 'hosts', 'methods', 'paths'];

function orderedEntries(object) {
    const rank = (key) => {
        const i = KEY_ORDER.indexOf(key);
        return i === -1 ? KEY_ORDER.length : i;
    };
    return Object.entries(object)
        .map((entry, i) => [entry, i])
        .sort((a, b) => rank(a[0][0]) - rank(b[0][0]) || a[1] - b[1])
        .map(([entry]) => entry);
}

function isScalar(value) {
    return value === null || typeof value !== 'object';
}

function emptyOf(value) {
    if (Array.isArray(value) && value.length === 0) {
        return '[]';
    }
    if (!isScalar(value) && !Array.isArray(value) && Object.keys(value).length === 0) {
        return '{}';
    }
    return null;
}

function lines(value, indent) {
    const pad = ' '.repeat(indent);
    const out = [];
    if (Array.isArray(value)) {
        for (const item of value) {
            const empty = emptyOf(item);
            if (isScalar(item) || empty) {
                out.push(`${pad}- ${empty || yamlScalar(item)}`);
            } else {
                const inner = lines(item, indent + 2);
                out.push(`${pad}- ${inner[0].slice(indent + 2)}`, ...inner.slice(1));
            }
        }
    } else {
        for (const [key, item] of orderedEntries(value)) {
            const name = yamlScalar(key);
            const empty = emptyOf(item);
            if (isScalar(item) || empty) {
                out.push(`${pad}${name}: ${empty || yamlScalar(item)}`);
            } else if (Array.isArray(item)) {
                out.push(`${pad}${name}:`, ...lines(item, indent));
            } else {
                out.push(`${pad}${name}:`, ...lines(item, indent + 2));
            }
        }
    }
    return out;
}

export function toYaml(value) {
    const empty = emptyOf(value);
    if (isScalar(value) || empty) {
        return `${empty || yamlScalar(value)}\n`;
    }
    return `${lines(value, 0).join('\n')}\n`;
}
