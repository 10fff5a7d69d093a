// OpenAPI spec upload on the clusters view: the documents that tell Vigil which APIs are
// declared (traffic outside them is a shadow API; deprecated operations still called are
// zombie APIs).

import { api, itemsOf } from './api.js';
import {
    $, checkForm, clearAlert, el, field, formatTime, labelCells, showOk, withBusy,
} from './ui.js';

let reportError = (err) => { throw err; };

// Fills the cluster choice from the clusters just listed; hides the form without clusters.
export function specsClustersChanged(clusters) {
    const select = $('spec-cluster');
    const chosen = select.value;
    select.replaceChildren(...clusters.map((c) => el('option', {
        value: c.id || c.cluster_id, text: c.name, selected: (c.id || c.cluster_id) === chosen,
    })));
    $('specs-card').hidden = clusters.length === 0;
    if (clusters.length > 0) {
        loadSpecs().catch(reportError);
    }
}

async function loadSpecs() {
    const id = $('spec-cluster').value;
    const specs = itemsOf(await api('GET', `/clusters/${encodeURIComponent(id)}/specs`),
        'specs');
    const table = $('specs-table');
    table.tBodies[0].replaceChildren(...specs.map((spec) => el('tr', {},
        el('th', { scope: 'row', text: spec.title || '(untitled)' }),
        el('td', { text: spec.version || '–' }),
        el('td', { class: 'mono', text: spec.service || '–' }),
        el('td', { class: 'mono', text: (spec.hosts || []).join(', ') || '–' }),
        el('td', { text: formatTime(spec.uploaded_at) }))));
    labelCells(table);
    table.hidden = specs.length === 0;
    $('specs-empty').hidden = specs.length > 0;
}

function contentTypeOf(file) {
    return /\.json$/i.test(file.name) || file.type === 'application/json'
        ? 'application/json' : 'application/yaml';
}

async function onSpecUpload(event) {
    event.preventDefault();
    clearAlert();
    const form = event.currentTarget;
    const ok = checkForm(form, (input) => {
        if (input.name === 'service' && input.value
            && !/^[a-z0-9][a-z0-9._:-]*$/.test(input.value)) {
            return 'The service must look like orders.shop (lower-case name.namespace).';
        }
        return '';
    });
    if (!ok) {
        return;
    }
    const file = field(form, 'document').files[0];
    const service = field(form, 'service').value.trim();
    const id = field(form, 'cluster').value;
    const query = service ? `?service=${encodeURIComponent(service)}` : '';
    await withBusy(form.querySelector('button[type=submit]'), async () => {
        try {
            const text = await file.text();
            const spec = await api('POST', `/clusters/${encodeURIComponent(id)}/specs${query}`,
                text, { contentType: contentTypeOf(file) });
            field(form, 'document').value = '';
            const hosts = (spec.hosts || []).join(', ');
            showOk(`Spec ${spec.title || file.name} ${spec.version || ''} uploaded`.trim()
                + (hosts ? ` for ${hosts}.` : '.'));
            await loadSpecs();
        } catch (err) {
            reportError(err);
        }
    });
}

// onError: how the page reports a failed call (a 401 ends the session).
export function wireSpecs(onError) {
    reportError = onError;
    $('spec-form').addEventListener('submit', onSpecUpload);
    $('spec-cluster').addEventListener('change', () => loadSpecs().catch(reportError));
}
