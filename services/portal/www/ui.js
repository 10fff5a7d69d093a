// Small DOM helpers of the page: element building (text only, never HTML), the alert and
// live regions, form checks and busy states.

export const $ = (id) => document.getElementById(id);

export function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
        if (key === 'class') {
            node.className = value;
        } else if (key === 'text') {
            node.textContent = value;
        } else if (key.startsWith('on')) {
            node.addEventListener(key.slice(2), value);
        } else if (value !== undefined && value !== null && value !== false) {
            node.setAttribute(key, value === true ? '' : String(value));
        }
    }
    for (const child of children) {
        if (child !== null && child !== undefined) {
            node.append(child instanceof Node ? child : document.createTextNode(String(child)));
        }
    }
    return node;
}

export function formatTime(value) {
    if (!value) {
        return '–';
    }
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) {
        return String(value);
    }
    return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// The API's messages are lower-case fragments ("invalid email or password"): make a sentence.
export function sentence(text) {
    const trimmed = String(text).trim();
    if (!trimmed) {
        return trimmed;
    }
    const first = trimmed[0].toUpperCase() + trimmed.slice(1);
    return /[.!?:)]$/.test(first) ? first : `${first}.`;
}

// Shows an error; items (strings) are listed under the message.
export function showError(message, items = []) {
    const box = $('alert');
    box.classList.remove('alert-ok');
    $('alert-text').textContent = sentence(message);
    const list = $('alert-list');
    list.replaceChildren(...items.map((item) => el('li', { text: item })));
    list.hidden = items.length === 0;
    box.hidden = false;
    box.scrollIntoView({ block: 'nearest' });
}

export function showOk(message) {
    const box = $('alert');
    box.classList.add('alert-ok');
    $('alert-text').textContent = message;
    $('alert-list').replaceChildren();
    $('alert-list').hidden = true;
    box.hidden = false;
}

export function clearAlert() {
    $('alert').hidden = true;
    $('alert-text').textContent = '';
    $('alert-list').replaceChildren();
}

// The over-privileged rules of a refused credential, as sentences.
export function offendingRules(details) {
    const rules = details && Array.isArray(details.offending_rules) ? details.offending_rules : [];
    return rules.map((rule) => {
        if (!rule || typeof rule !== 'object') {
            return String(rule);
        }
        const list = (value) => (Array.isArray(value) ? value.join(', ') : '');
        const verbs = list(rule.verbs);
        let target = '';
        if (Array.isArray(rule.nonResourceURLs)) {
            target = `non-resource URLs ${list(rule.nonResourceURLs)}`;
        } else if (Array.isArray(rule.resources)) {
            const groups = Array.isArray(rule.apiGroups)
                ? ` (API groups ${rule.apiGroups.map((g) => g || 'core').join(', ')})` : '';
            target = `resources ${list(rule.resources)}${groups}`;
        }
        const what = verbs ? `verbs ${verbs}${target ? ` on ${target}` : ''}` : target;
        return rule.reason ? `${sentence(rule.reason).replace(/\.$/, '')}: ${what}` : what;
    });
}

export function announce(message) {
    const status = $('status');
    status.textContent = '';
    window.setTimeout(() => { status.textContent = message; }, 50);
}

// Marks invalid fields of a form; returns false (and focuses the first) when one fails.
export function checkForm(form, extra = () => '') {
    let first = null;
    const messages = [];
    for (const input of form.querySelectorAll('input, textarea, select')) {
        input.removeAttribute('aria-invalid');
        let message = '';
        if (input.required && !input.value.trim()) {
            message = `${labelOf(input)} is required.`;
        } else if (input.minLength > 0 && input.value
            && input.value.length < input.minLength) {
            message = `${labelOf(input)} must have at least ${input.minLength} characters.`;
        } else if (input.type === 'email' && input.value && !input.checkValidity()) {
            message = `${labelOf(input)} is not a valid email address.`;
        } else {
            message = extra(input);
        }
        if (message) {
            input.setAttribute('aria-invalid', 'true');
            messages.push(message);
            first = first || input;
        }
    }
    if (first) {
        showError(messages.join(' '));
        first.focus();
        return false;
    }
    return true;
}

// A named control of a form (not form.name, which named controls may shadow).
export function field(form, name) {
    return form.elements.namedItem(name);
}

export function labelOf(input) {
    const label = input.labels && input.labels[0];
    return label ? label.textContent.trim() : input.name;
}

export async function withBusy(button, work) {
    const text = button.textContent;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
        return await work();
    } finally {
        button.disabled = false;
        button.removeAttribute('aria-busy');
        button.textContent = text;
    }
}

// Marks a region busy while work runs (assistive technology and tests wait for it).
export async function busy(region, work) {
    region.setAttribute('aria-busy', 'true');
    try {
        return await work();
    } finally {
        region.removeAttribute('aria-busy');
    }
}

export async function copyFrom(id, button) {
    const source = $(id);
    const text = 'value' in source && source.tagName !== 'PRE' ? source.value : source.textContent;
    try {
        await navigator.clipboard.writeText(text);
    } catch (err) {
        const area = el('textarea', { class: 'visually-hidden', 'aria-hidden': 'true' });
        area.value = text;
        document.body.append(area);
        area.select();
        document.execCommand('copy');
        area.remove();
    }
    const label = button.textContent;
    button.textContent = 'Copied';
    announce('Copied to the clipboard.');
    window.setTimeout(() => { button.textContent = label; }, 1500);
}

export function badge(text, kind) {
    return el('span', { class: `badge badge-${kind || text}`, text });
}

// Copies each column's header text onto its cells (data-label), which narrow screens show
// in front of the value when a table is laid out as stacked cards.
export function labelCells(table) {
    const heads = [...table.tHead.rows[0].cells].map((th) => th.textContent.trim());
    for (const row of table.tBodies[0].rows) {
        [...row.cells].forEach((cell, i) => {
            cell.dataset.label = heads[i] || '';
        });
    }
}
