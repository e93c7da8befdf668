// export_button.js: Export for a page's table: a format (CSV with a byte order mark, which Excel
// needs to read UTF-8; plain CSV; JSON Lines) and a link that downloads GET path?<the page's
// filter>&format=… (docs/api.md, Exports). The browser streams the file to disk: nothing of it
// passes through the page, whatever its size.
import { h } from './dom.js';
import { qs } from './api.js';

const FORMATS = [
    ['csv-bom', 'CSV for Excel', { format: 'csv', bom: '1' }],
    ['csv', 'CSV', { format: 'csv' }],
    ['jsonl', 'JSON Lines', { format: 'jsonl' }],
];

// path: the export endpoint; query(): the filter the page shows now ({k: v}, empty values left
// out), read when the link is used.
export function exportButton(path, query = () => ({})) {
    const sel = h('select.export-format', { 'aria-label': 'Export format' },
        FORMATS.map(([value, label]) => h('option', { value }, label)));
    const link = h('a.btn.btn-ghost.btn-small', { href: path, download: '',
        title: 'Download every row of the current filter' }, 'Export');
    const update = () => {
        const format = FORMATS.find(([value]) => value === sel.value)[2];
        link.href = path + qs({ ...query(), ...format });
    };
    link.addEventListener('click', update); // before the browser follows it
    sel.addEventListener('change', update);
    update();
    return h('span.export', null, sel, link);
}
