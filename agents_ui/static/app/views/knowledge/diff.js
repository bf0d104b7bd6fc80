// What changed between two versions of an article: the lines of each field compared
// (longest common subsequence), and a line that was rewritten compared word by word, a
// Chinese character counting as a word (Chinese has no spaces to split on).

import { computed } from "vue";
import { useI18n } from "vue-i18n";
import { areaName, itemName } from "../../store.js";

// Past this many cells the table would cost more than the reader gains: the field is
// shown as wholly replaced.
const MAX_CELLS = 2_000_000;

function tokens(line) {
  return line.match(/[A-Za-z0-9_.%-]+|\s+|./gu) || [];
}

// The edit script turning `a` into `b`: [{op: "same" | "del" | "add", value}].
function lcs(a, b) {
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_CELLS) {
    return [...a.map((value) => ({ op: "del", value })), ...b.map((value) => ({ op: "add", value }))];
  }
  // lengths[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lengths = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i][j] = a[i] === b[j] ? lengths[i + 1][j + 1] + 1 : Math.max(lengths[i + 1][j], lengths[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: "same", value: a[i] });
      i += 1;
      j += 1;
    } else if (lengths[i + 1][j] >= lengths[i][j + 1]) {
      out.push({ op: "del", value: a[i++] });
    } else {
      out.push({ op: "add", value: b[j++] });
    }
  }
  while (i < n) out.push({ op: "del", value: a[i++] });
  while (j < m) out.push({ op: "add", value: b[j++] });
  return out;
}

// Neighbouring pieces of the same kind as one, so that a changed phrase reads whole.
function joined(parts) {
  const out = [];
  for (const part of parts) {
    const last = out[out.length - 1];
    if (last && last.op === part.op) last.text += part.value;
    else out.push({ op: part.op, text: part.value });
  }
  return out;
}

// The lines of `after` against `before`: [{op, parts: [{op, text}]}]; a line that was
// rewritten (deleted lines followed by added ones) becomes "change", its words marked.
function diffLines(before, after) {
  const ops = lcs(String(before || "").split("\n"), String(after || "").split("\n"));
  const rows = [];
  for (let k = 0; k < ops.length; ) {
    if (ops[k].op === "same") {
      rows.push({ op: "same", parts: [{ op: "same", text: ops[k].value }] });
      k += 1;
      continue;
    }
    const deleted = [];
    const added = [];
    while (k < ops.length && ops[k].op === "del") deleted.push(ops[k++].value);
    while (k < ops.length && ops[k].op === "add") added.push(ops[k++].value);
    const pairs = Math.min(deleted.length, added.length);
    for (let p = 0; p < pairs; p++) {
      rows.push({ op: "change", parts: joined(lcs(tokens(deleted[p]), tokens(added[p]))) });
    }
    deleted.slice(pairs).forEach((text) => rows.push({ op: "del", parts: [{ op: "del", text }] }));
    added.slice(pairs).forEach((text) => rows.push({ op: "add", parts: [{ op: "add", text }] }));
  }
  return rows;
}

// A version's fields as the lines compared (lists one entry a line, codes as names).
const FIELDS = [
  ["title", (v) => v.title],
  ["script", (v) => v.script],
  ["body", (v) => v.body],
  ["documents", (v) => (v.documents || []).join("\n")],
  ["fees", (v) => v.fees],
  ["time_limit", (v) => v.time_limit],
  ["steps", (v) => (v.steps || []).join("\n")],
  ["service_items", (v) => (v.service_items || []).map(itemName).join("\n")],
  ["hotlines", (v) => (v.hotlines || []).join("\n")],
  ["areas", (v) => (v.areas || []).map(areaName).join("\n")],
  ["valid_from", (v) => v.valid_from],
  ["valid_until", (v) => v.valid_until],
  ["review_due", (v) => v.review_due],
];
const EN_FIELDS = ["title", "script", "body", "documents", "fees", "time_limit", "steps"];

function fieldText(value) {
  return Array.isArray(value) ? value.join("\n") : String(value ?? "");
}

// The fields that differ: [{field, english, rows}].
function versionChanges(before, after) {
  const out = [];
  for (const [field, read] of FIELDS) {
    const a = fieldText(before ? read(before) : "");
    const b = fieldText(read(after));
    if (a !== b) out.push({ field, english: false, rows: diffLines(a, b) });
  }
  for (const field of EN_FIELDS) {
    const a = fieldText(before?.en?.[field]);
    const b = fieldText(after.en?.[field]);
    if (a !== b) out.push({ field, english: true, rows: diffLines(a, b) });
  }
  return out;
}

// One field's lines, deletions struck through and additions marked.
const TextDiff = {
  props: { rows: { type: Array, required: true } },
  template: `
  <div class="kb-diff">
    <div v-for="(row, i) in rows" :key="i" class="kb-diff-line" :class="'kb-' + row.op"><template
      v-for="(part, j) in row.parts" :key="j"><del v-if="part.op === 'del'">{{ part.text }}</del><ins
      v-else-if="part.op === 'add'">{{ part.text }}</ins><span v-else>{{ part.text }}</span></template><span
      v-if="!row.parts.some((p) => p.text)">&nbsp;</span></div>
  </div>`,
};

// Every field that changed from `before` (the published version; null: none) to `after`.
export const VersionDiff = {
  components: { TextDiff },
  props: { before: Object, after: { type: Object, required: true } },
  setup(props) {
    const { t } = useI18n();
    const changes = computed(() => versionChanges(props.before, props.after));
    const label = (c) => {
      const name = t("kbUi.fields." + c.field);
      return c.english ? t("kbUi.inEnglish", { field: name }) : name;
    };
    return { t, changes, label };
  },
  template: `
  <div class="kb-changes" data-test="kb-diff">
    <div v-if="!changes.length" class="empty-line">{{ t('kbUi.noChange') }}</div>
    <div v-for="c in changes" :key="c.field + c.english" class="kb-change" :data-field="c.field">
      <h4>{{ label(c) }}</h4>
      <TextDiff :rows="c.rows" />
    </div>
  </div>`,
};
