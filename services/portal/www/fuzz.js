// The active tests view: start an OWASP API Top 10 test plan (a fuzz job) against an API the
// tenant owns, and follow the jobs' progress.

import { api, itemsOf } from './api.js';
import {
    $, badge, checkForm, clearAlert, el, field, formatTime, labelCells, showOk, withBusy,
} from './ui.js';

let reportError = (err) => { throw err; };
let refreshTimer = 0;

export const FUZZ_CATEGORIES = [
    ['API1', 'API1 Broken object level authorization'],
    ['API2', 'API2 Broken authentication'],
    ['API3', 'API3 Broken object property level authorization'],
    ['API4', 'API4 Unrestricted resource consumption'],
    ['API5', 'API5 Broken function level authorization'],
    ['API7', 'API7 Server-side request forgery'],
    ['API8', 'API8 Security misconfiguration'],
    ['API9', 'API9 Improper inventory management'],
    ['injection', 'Injection (SQL, command)'],
];

export async function loadFuzzJobs() {
    window.clearTimeout(refreshTimer);
    const jobs = itemsOf(await api('GET', '/fuzz-jobs'), 'jobs');
    const table = $('jobs-table');
    table.tBodies[0].replaceChildren(...jobs.map(jobRow));
    labelCells(table);
    table.hidden = jobs.length === 0;
    $('jobs-empty').hidden = jobs.length > 0;
    if (jobs.some((j) => j.status === 'queued' || j.status === 'running')) {
        refreshTimer = window.setTimeout(() => {
            if (!$('view-tests').hidden) {
                loadFuzzJobs().catch(reportError);
            }
        }, 3000);
    }
}

function jobRow(job) {
    const progress = job.progress || {};
    const done = Number(progress.done) || 0;
    const total = Number(progress.total) || 0;
    const bar = el('progress', { max: String(Math.max(total, 1)), value: String(done),
        'aria-label': `Progress of the test of ${job.base_url}` });
    const status = el('div', {}, badge(job.status || 'queued', jobBadge(job.status)));
    if (job.error) {
        status.append(el('span', { class: 'cell-note', text: job.error }));
    }
    return el('tr', {},
        el('th', { scope: 'row', class: 'mono', text: job.base_url }),
        el('td', {}, status),
        el('td', {}, el('div', { class: 'progress-cell' }, bar,
            el('span', { class: 'cell-note', text: total ? `${done} / ${total}` : '–' }))),
        el('td', { class: 'num', text: String(job.findings_count ?? 0) }),
        el('td', { text: formatTime(job.created_at) }));
}

function jobBadge(status) {
    return { done: 'ok', failed: 'error', running: 'low' }[status] || 'pending';
}

// One identity of the form ("1" or "2"), or null when its header value is empty.
function identityOf(form, n) {
    const value = field(form, `id${n}_value`).value;
    if (!value) {
        return null;
    }
    const name = field(form, `id${n}_name`).value.trim() || `identity-${n}`;
    const header = field(form, `id${n}_header`).value.trim() || 'Authorization';
    const identity = { name, headers: { [header]: value } };
    const role = field(form, `id${n}_role`).value;
    if (role) {
        identity.role = role;
    }
    return identity;
}

function jobRequest(form) {
    const request = {
        base_url: field(form, 'base_url').value.trim(),
        identities: [identityOf(form, 1), identityOf(form, 2)].filter(Boolean),
        allow_unsafe_methods: field(form, 'allow_unsafe').checked,
    };
    const boxes = [...form.querySelectorAll('input[name="category"]')];
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    if (chosen.length < boxes.length) {
        request.categories = chosen;    // all checked: every category (the default)
    }
    return request;
}

async function onFuzzStart(event) {
    event.preventDefault();
    clearAlert();
    const form = event.currentTarget;
    const ok = checkForm(form, (input) => {
        if (input.name === 'base_url' && input.value && !/^https?:\/\/[^\s/]+/i.test(input.value)) {
            return 'The base URL must start with http:// or https://.';
        }
        if (/_header$/.test(input.name) && input.value && !/^[A-Za-z0-9_-]+$/.test(input.value)) {
            return `${input.value} is not a header name.`;
        }
        return '';
    });
    if (!ok) {
        return;
    }
    if (!form.querySelector('input[name="category"]:checked')) {
        field(form, 'category')[0].focus();
        reportError(new Error('Choose at least one category to test.'));
        return;
    }
    const request = jobRequest(form);
    await withBusy(form.querySelector('button[type=submit]'), async () => {
        try {
            await api('POST', '/fuzz-jobs', request);
            field(form, 'id1_value').value = '';
            field(form, 'id2_value').value = '';
            showOk(`The test of ${request.base_url} is queued.`);
            await loadFuzzJobs();
        } catch (err) {
            reportError(err);
        }
    });
}

// onError: how the page reports a failed call (a 401 ends the session).
export function wireFuzz(onError) {
    reportError = onError;
    const list = $('fuzz-categories');
    list.replaceChildren(...FUZZ_CATEGORIES.map(([value, label]) => {
        const id = `fuzz-cat-${value}`;
        return el('div', { class: 'check' },
            el('input', { type: 'checkbox', id, name: 'category', value, checked: true }),
            el('label', { for: id, text: label }));
    }));
    $('fuzz-form').addEventListener('submit', onFuzzStart);
}
