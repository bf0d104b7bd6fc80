// Finding orders (issue 17): every role searches the orders it may see, by words of the
// description, address or caller's name, by an order number or by a phone number, narrows
// them with filters, sorts them by a column and pages through them with the API's cursor.
// The search lives in the URL (#/orders?q=…&status=…): a link reproduces it and Back undoes
// a change. The API decides which orders a role sees (an agent its hotlines' orders, a
// unit every order ever dispatched to it); the screen only hides the filters a role
// cannot use. Each user keeps named searches (saved filters).

import { computed, nextTick, reactive, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { areaName, errorText, go, itemName, nameOf, refs, session, unitName } from "../store.js";
import { CALLBACK_RATINGS, CENTRE_ROLES, CHANNELS, DOMAINS, ORDER_KINDS, ORDER_STATUSES } from "../vocab.js";
import { useNarrow } from "./common.js";
import { ExportMenu } from "./exports.js";
import { AreaSelect, ItemSelect } from "./pickers.js";

const PATH = "/orders";
// Rows a page asks for, unless the link says otherwise (`limit`).
const PAGE = 50;

// The search's fields, named as GET /api/v1/orders names its parameters, in the order a
// link spells them. The URL, the API and saved filters share these names.
const KEYS = [
  "q", "hotline", "status", "domain", "service_item", "kind", "enterprise_id", "area", "channel",
  "registered_from", "registered_to", "completed_from", "completed_to",
  "overdue", "rating", "redo", "coordination", "hard_case", "sort", "desc", "limit",
];
const LISTS = ["status", "channel"]; // several values, comma-separated in a link
const FLAGS = ["overdue", "redo", "coordination", "hard_case"]; // yes, no or either
const RANGES = [
  ["registered", "registered_from", "registered_to"],
  ["completed", "completed_from", "completed_to"],
];
// The columns the API sorts by, each with the direction a first click asks for.
const FIRST_ORDER = { registered: "descending", completed: "descending", due: "ascending", number: "descending" };
// With no `sort` the API answers the latest registered first.
const DEFAULT_SORT = "registered";

// A link's query as the form holds it: lists as arrays, everything else as text.
function fromQuery(query) {
  return Object.fromEntries(
    KEYS.map((key) => {
      const value = String(query[key] ?? "");
      return [key, LISTS.includes(key) ? value.split(",").filter(Boolean) : value];
    }),
  );
}

// The form's filled fields as a link's query, in KEYS order (so equal searches compare equal).
function toQuery(form) {
  const query = {};
  for (const key of KEYS) {
    const value = LISTS.includes(key) ? form[key].join(",") : String(form[key] ?? "").trim();
    if (value) query[key] = value;
  }
  return query;
}

function hashOf(query) {
  const search = new URLSearchParams(query).toString();
  return search ? `${PATH}?${search}` : PATH;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// A saved filter keeps the search in the API's own types; the page size stays the link's.
function toParams(query) {
  const params = {};
  for (const [key, value] of Object.entries(query)) {
    if (key === "limit") continue;
    if (LISTS.includes(key)) params[key] = value.split(",");
    else if (FLAGS.includes(key) || key === "desc") params[key] = value === "true";
    else if (key === "enterprise_id") params[key] = Number(value);
    else params[key] = value;
  }
  return params;
}

function fromParams(params) {
  const query = {};
  for (const [key, value] of Object.entries(params || {})) {
    query[key] = Array.isArray(value) ? value.join(",") : String(value);
  }
  return toQuery(fromQuery(query));
}

// A date field's two ends, "from" and "to", for one filter.
const DateRange = {
  props: { from: String, to: String },
  emits: ["update:from", "update:to"],
  setup() {
    const { t } = useI18n();
    return { t };
  },
  template: `
  <div class="search-dates">
    <el-date-picker :model-value="from || null" type="date" value-format="YYYY-MM-DD" :placeholder="t('searchUi.from')"
                    class="search-date" data-test="date-from" @update:model-value="(v) => $emit('update:from', v || '')" />
    <span class="muted">–</span>
    <el-date-picker :model-value="to || null" type="date" value-format="YYYY-MM-DD" :placeholder="t('searchUi.to')"
                    class="search-date" data-test="date-to" @update:model-value="(v) => $emit('update:to', v || '')" />
  </div>`,
};

// The user's saved filters: apply one, delete one, save the current search under a name.
const SavedFilters = {
  props: { query: Object },
  emits: ["apply"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const state = reactive({ open: false, items: [], error: "", name: "", busy: false, loaded: false });
    // Asked for when first opened: most visits never use them.
    async function load() {
      state.error = "";
      try {
        state.items = (await api.get("/api/v1/saved-filters")).items;
        state.loaded = true;
      } catch (e) {
        state.error = errorText(e);
      }
    }
    async function save() {
      const name = state.name.trim();
      if (!name || state.busy) return;
      state.busy = true;
      try {
        await api.post("/api/v1/saved-filters", { name, params: toParams(props.query) });
        state.name = "";
        ElMessage.success(t("searchUi.savedOk", { name }));
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        state.busy = false;
      }
    }
    async function remove(filter) {
      try {
        await api.delete(`/api/v1/saved-filters/${filter.id}`);
        state.items = state.items.filter((f) => f.id !== filter.id);
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }
    function apply(filter) {
      state.open = false;
      emit("apply", fromParams(filter.params));
    }
    return { t, state, load, save, remove, apply };
  },
  template: `
  <el-popover v-model:visible="state.open" placement="bottom-end" :width="320" trigger="click" @show="load">
    <template #reference>
      <el-button data-test="saved-toggle">{{ t('searchUi.saved') }}</el-button>
    </template>
    <div class="saved-filters" data-test="saved-filters">
      <el-alert v-if="state.error" :title="state.error" type="error" :closable="false" show-icon />
      <div v-else-if="state.loaded && !state.items.length" class="empty-line">{{ t('searchUi.savedNone') }}</div>
      <ul class="plain-list">
        <li v-for="f in state.items" :key="f.id" class="saved-row" data-test="saved-row" :data-name="f.name">
          <button type="button" class="saved-apply ellipsis" data-test="saved-apply" @click="apply(f)">{{ f.name }}</button>
          <el-button text size="small" type="danger" data-test="saved-delete" @click="remove(f)">{{ t('searchUi.delete') }}</el-button>
        </li>
      </ul>
      <div class="saved-new">
        <el-input v-model="state.name" maxlength="40" :placeholder="t('searchUi.saveAs')" data-test="saved-name"
                  @keyup.enter="save" />
        <el-button type="primary" :disabled="!state.name.trim()" :loading="state.busy" data-test="saved-save"
                   @click="save">{{ t('app.save') }}</el-button>
      </div>
    </div>
  </el-popover>`,
};

export default {
  components: { AreaSelect, DateRange, ExportMenu, ItemSelect, SavedFilters },
  props: { params: Object }, // the URL's query (main.js's router)
  setup(props) {
    const { t } = useI18n();
    const narrow = useNarrow();
    const user = session.user;
    const form = reactive(fromQuery(props.params));
    const rows = ref([]);
    const cursor = ref(null);
    const loading = ref(false);
    const error = ref("");
    const showFilters = ref(!narrow.value);
    const table = ref(null);
    const results = ref(null);
    const searchBox = ref(null);
    const currentRow = ref(-1);

    // Only the filters the role can use: a unit sees its own orders only, an agent tied
    // to one hotline sees that hotline's only.
    const hotlines = computed(() =>
      refs.hotlines.filter((h) => !user.hotline_codes || user.hotline_codes.includes(h.code)),
    );
    const pickHotline = computed(() => hotlines.value.length > 1);
    const pickUnit = CENTRE_ROLES.includes(user.role);

    // The search the URL holds, in the same form as the form's (comparable with it).
    const linked = () => toQuery(fromQuery(props.params));

    let asked = 0;
    async function load(more = false) {
      const ask = ++asked; // a slower, older answer must not replace a newer one
      const query = linked();
      loading.value = true;
      try {
        const page = await api.get("/api/v1/orders", {
          ...query,
          limit: query.limit || PAGE,
          cursor: more ? cursor.value : "",
        });
        if (ask !== asked) return;
        rows.value = more ? [...rows.value, ...page.items] : page.items;
        cursor.value = page.next_cursor;
        error.value = "";
        if (!more) currentRow.value = -1;
      } catch (e) {
        if (ask !== asked) return;
        error.value = errorText(e);
        if (!more) {
          rows.value = [];
          cursor.value = null;
        }
      } finally {
        if (ask === asked) loading.value = false;
      }
    }

    // The URL is the search. Changing the form goes to a new URL (a step Back undoes), and
    // every URL, typed, shared, or reached by Back, fills the form and loads.
    function navigate(query) {
      if (same(query, linked())) return false;
      go(hashOf(query));
      return true;
    }
    // Enter or the button: search, or search again when nothing changed.
    function search() {
      if (!navigate(toQuery(form))) load();
    }
    // Without the filters (keeping the words), or without the words too; the order kept.
    const kept = () => ({ ...fromQuery({}), sort: form.sort, desc: form.desc, limit: form.limit });
    const clear = () => navigate(toQuery({ ...kept(), q: form.q }));
    const clearAll = () => navigate(toQuery(kept()));
    function applyQuery(query) {
      if (!navigate(query)) load();
    }
    // The words wait for Enter; every other filter applies as it changes.
    watch(
      () => JSON.stringify({ ...toQuery(form), q: null }),
      () => navigate(toQuery(form)),
    );
    watch(
      () => props.params,
      () => {
        Object.assign(form, fromQuery(props.params));
        showSort();
        load();
      },
    );
    load();

    // Sorting: the table's headers (or, on a phone, the sort menu) set sort and desc.
    const sortKey = computed(() => form.sort || DEFAULT_SORT);
    const sortOrder = computed(() => {
      if (form.desc) return form.desc === "true" ? "descending" : "ascending";
      return form.sort ? FIRST_ORDER[form.sort] || "ascending" : "descending";
    });
    function sortBy(key, order) {
      const desc = order === "descending";
      const usual = key === DEFAULT_SORT && desc; // the API's default: kept out of the link
      Object.assign(form, { sort: usual ? "" : key, desc: usual ? "" : String(desc) });
    }
    const onSortChange = ({ prop, order }) => sortBy(prop || DEFAULT_SORT, order || FIRST_ORDER[prop]);
    const flipSort = () => sortBy(sortKey.value, sortOrder.value === "descending" ? "ascending" : "descending");
    // The header's arrow follows a search reached by Back or a link.
    function showSort() {
      nextTick(() => table.value?.sort(sortKey.value, sortOrder.value));
    }

    const open = (row) => go(`/orders/${row.id}`);
    // The keyboard: ↓ from the search box into the results, ↑/↓ along them, Enter opens.
    function moveTo(index) {
      if (!rows.value.length) return;
      currentRow.value = Math.max(0, Math.min(rows.value.length - 1, index));
      table.value?.setCurrentRow(rows.value[currentRow.value]);
      nextTick(() => results.value?.querySelector(".current-row")?.scrollIntoView({ block: "nearest" }));
    }
    function intoResults() {
      if (!rows.value.length) return;
      results.value?.focus();
      moveTo(Math.max(currentRow.value, 0));
    }
    function onResultsKey(event) {
      if (event.key === "ArrowDown") moveTo(currentRow.value + 1);
      else if (event.key === "ArrowUp") {
        if (currentRow.value <= 0) searchBox.value?.focus();
        else moveTo(currentRow.value - 1);
      } else if (event.key === "Enter" && rows.value[currentRow.value]) open(rows.value[currentRow.value]);
      else return;
      event.preventDefault();
    }
    const onRowClick = (row) => open(row);

    // What narrows the search now, each removable on its own.
    const chip = (field, value) => t("searchUi.chip", { field: t("searchUi.fields." + field), value });
    const chips = computed(() => {
      const yesNo = (v) => t(v === "true" ? "app.yes" : "app.no");
      const words = {
        hotline: (v) => v,
        status: (v) => v.map((s) => t("status." + s)).join(t("searchUi.separator")),
        domain: (v) => t("domain." + v),
        service_item: (v) => itemName(v),
        kind: (v) => t("kind." + v),
        enterprise_id: (v) => unitName(Number(v)),
        area: (v) => areaName(v),
        channel: (v) => v.map((c) => t("channel." + c)).join(t("searchUi.separator")),
        rating: (v) => t("searchUi.ratings." + v),
        ...Object.fromEntries(FLAGS.map((f) => [f, yesNo])),
      };
      const out = [];
      for (const [key, word] of Object.entries(words)) {
        const value = form[key];
        if (LISTS.includes(key) ? value.length : value) {
          out.push({ key, text: chip(key, word(value)), clear: [key] });
        }
      }
      for (const [range, from, to] of RANGES) {
        if (form[from] || form[to]) {
          const text = chip(range, `${form[from] || "…"} – ${form[to] || "…"}`);
          out.push({ key: range, text, clear: [from, to] });
        }
      }
      return out;
    });
    function drop(chip) {
      for (const key of chip.clear) form[key] = LISTS.includes(key) ? [] : "";
    }

    const unitOf = (row) => (row.enterprise ? nameOf(row.enterprise) : unitName(row.lead_enterprise_id));
    // A row's callback outcome and "went to coordination" are the filters' words; the
    // search contract does not yet put them on each row, so the columns show them when
    // a row carries them (rating: good, bad, unreachable) and otherwise what the order
    // itself says (coordinating now).
    const ratingType = (rating) => ({ good: "success", bad: "danger" })[rating] || "info";
    const coordinated = (row) => row.coordination === true || row.status === "escalated";
    const flagged = (row) => row.hard_case || row.redo_count > 0 || coordinated(row);

    return {
      t, narrow, form, rows, cursor, loading, error, showFilters, table, results, searchBox, chips, hotlines,
      pickHotline, pickUnit, sortKey, sortOrder, refs, nameOf, DOMAINS, ORDER_KINDS, ORDER_STATUSES, CHANNELS, toParams,
      CALLBACK_RATINGS, FLAGS, FIRST_ORDER, linked, load, search, clear, clearAll, applyQuery, drop, onSortChange,
      flipSort, sortBy, open, intoResults, onResultsKey, onRowClick, unitOf, ratingType, coordinated, flagged,
    };
  },
  template: `
  <div class="search-page" :class="{ narrow }">
    <div class="page-head search-head">
      <h2>{{ t('searchUi.title') }}</h2>
      <span class="grow"></span>
      <ExportMenu :params="toParams(linked())" />
      <SavedFilters :query="linked()" @apply="applyQuery" />
    </div>

    <div class="search-bar">
      <el-input ref="searchBox" v-model="form.q" clearable class="search-box" maxlength="100" :placeholder="t('searchUi.placeholder')"
                data-test="search-q" @keyup.enter="search" @keydown.down.prevent="intoResults" @clear="search" />
      <el-button type="primary" :loading="loading" data-test="search-go" @click="search">{{ t('searchUi.search') }}</el-button>
      <el-button data-test="filters-toggle" @click="showFilters = !showFilters">
        {{ t('searchUi.filters') }}<span v-if="chips.length" class="search-count">{{ chips.length }}</span>
      </el-button>
    </div>

    <el-card v-show="showFilters" shadow="never" class="panel search-filters" data-test="filters">
      <div class="search-grid">
        <div v-if="pickHotline" class="search-field"><span>{{ t('searchUi.fields.hotline') }}</span>
          <el-select v-model="form.hotline" clearable :placeholder="t('app.all')" data-test="filter-hotline">
            <el-option v-for="h in hotlines" :key="h.code" :value="h.code" :label="h.code + ' ' + nameOf(h)" />
          </el-select></div>
        <div class="search-field wide"><span>{{ t('searchUi.fields.status') }}</span>
          <el-select v-model="form.status" multiple collapse-tags collapse-tags-tooltip clearable :placeholder="t('app.all')"
                     data-test="filter-status">
            <el-option v-for="s in ORDER_STATUSES" :key="s" :value="s" :label="t('status.' + s)" />
          </el-select></div>
        <div class="search-field"><span>{{ t('searchUi.fields.domain') }}</span>
          <el-select v-model="form.domain" clearable :placeholder="t('app.all')" data-test="filter-domain">
            <el-option v-for="d in DOMAINS" :key="d" :value="d" :label="t('domain.' + d)" />
          </el-select></div>
        <div class="search-field"><span>{{ t('searchUi.fields.service_item') }}</span>
          <ItemSelect v-model="form.service_item" :placeholder="t('app.all')" /></div>
        <div class="search-field"><span>{{ t('searchUi.fields.kind') }}</span>
          <el-select v-model="form.kind" clearable :placeholder="t('app.all')" data-test="filter-kind">
            <el-option v-for="k in ORDER_KINDS" :key="k" :value="k" :label="t('kind.' + k)" />
          </el-select></div>
        <div v-if="pickUnit" class="search-field"><span>{{ t('searchUi.fields.enterprise_id') }}</span>
          <el-select v-model="form.enterprise_id" clearable filterable :placeholder="t('app.all')" data-test="filter-unit">
            <el-option v-for="e in refs.enterprises" :key="e.id" :value="String(e.id)" :label="nameOf(e)" />
          </el-select></div>
        <div class="search-field"><span>{{ t('searchUi.fields.area') }}</span>
          <AreaSelect v-model="form.area" :placeholder="t('app.all')" /></div>
        <div class="search-field wide"><span>{{ t('searchUi.fields.channel') }}</span>
          <el-select v-model="form.channel" multiple collapse-tags collapse-tags-tooltip clearable :placeholder="t('app.all')"
                     data-test="filter-channel">
            <el-option v-for="c in CHANNELS" :key="c" :value="c" :label="t('channel.' + c)" />
          </el-select></div>
        <div class="search-field wide"><span>{{ t('searchUi.fields.registered') }}</span>
          <DateRange v-model:from="form.registered_from" v-model:to="form.registered_to" data-test="filter-registered" /></div>
        <div class="search-field wide"><span>{{ t('searchUi.fields.completed') }}</span>
          <DateRange v-model:from="form.completed_from" v-model:to="form.completed_to" data-test="filter-completed" /></div>
        <div class="search-field"><span>{{ t('searchUi.fields.rating') }}</span>
          <el-select v-model="form.rating" clearable :placeholder="t('app.all')" data-test="filter-rating">
            <el-option v-for="r in CALLBACK_RATINGS" :key="r" :value="r" :label="t('searchUi.ratings.' + r)" />
          </el-select></div>
        <div v-for="f in FLAGS" :key="f" class="search-field"><span>{{ t('searchUi.fields.' + f) }}</span>
          <el-select v-model="form[f]" clearable :placeholder="t('app.all')" :data-test="'filter-' + f">
            <el-option value="true" :label="t('app.yes')" />
            <el-option value="false" :label="t('app.no')" />
          </el-select></div>
      </div>
    </el-card>

    <div v-if="chips.length" class="search-chips" data-test="chips">
      <el-tag v-for="c in chips" :key="c.key" closable disable-transitions effect="plain" :data-chip="c.key"
              @close="drop(c)">{{ c.text }}</el-tag>
      <el-button text type="primary" size="small" data-test="clear" @click="clear">{{ t('searchUi.clear') }}</el-button>
    </div>

    <div class="search-summary">
      <span class="muted" data-test="loaded">{{ t('searchUi.loaded', rows.length) }}<template v-if="cursor"> · {{ t('searchUi.moreExist') }}</template></span>
      <span class="grow"></span>
      <template v-if="narrow">
        <el-select :model-value="sortKey" class="search-sort" data-test="sort-select" @update:model-value="(k) => sortBy(k, FIRST_ORDER[k])">
          <el-option v-for="(order, key) in FIRST_ORDER" :key="key" :value="key" :label="t('searchUi.sorts.' + key)" />
        </el-select>
        <el-button data-test="sort-flip" @click="flipSort">{{ sortOrder === 'descending' ? t('searchUi.descending') : t('searchUi.ascending') }}</el-button>
      </template>
    </div>

    <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" class="search-error" data-test="search-error" />

    <div v-if="!rows.length && !loading && !error" class="search-empty" data-test="empty">
      <div class="strong">{{ t('searchUi.emptyTitle') }}</div>
      <p v-if="form.q" class="muted">{{ t('searchUi.emptyWords') }}</p>
      <p v-if="chips.length" class="muted">{{ t('searchUi.emptyFilters') }}</p>
      <p v-if="!form.q && !chips.length" class="muted">{{ t('searchUi.emptyNothing') }}</p>
      <el-button v-if="form.q || chips.length" type="primary" plain data-test="empty-clear"
                 @click="clearAll">{{ t('searchUi.clearAll') }}</el-button>
    </div>

    <div v-else-if="narrow" class="unit-cards search-cards" data-test="results">
      <article v-for="row in rows" :key="row.id" class="unit-card search-card" tabindex="0" data-test="result"
               :data-number="row.number" @click="open(row)" @keyup.enter="open(row)">
        <div class="unit-card-head">
          <a class="mono link" :href="'#/orders/' + row.id" data-test="result-number" @click.stop>{{ row.number }}</a>
          <StatusTag :status="row.status" />
        </div>
        <div class="tags">
          <span class="strong">{{ $itemName(row.service_item_code) }}</span>
          <el-tag v-if="row.hard_case" disable-transitions size="small" type="danger" data-test="flag-hard-case">{{ t('searchUi.flags.hardCase') }}</el-tag>
          <el-tag v-if="row.redo_count > 0" disable-transitions size="small" type="warning" data-test="flag-redo">{{ t('searchUi.flags.redo') }}</el-tag>
          <el-tag v-if="coordinated(row)" disable-transitions size="small" type="warning" data-test="flag-coordination">{{ t('searchUi.flags.coordination') }}</el-tag>
        </div>
        <div class="clamp-2">{{ row.description }}</div>
        <div class="muted small">{{ $areaName(row.area_code) }} {{ row.address }}</div>
        <div class="search-card-facts small">
          <span><span class="muted">{{ t('searchUi.cols.registered') }}</span> {{ $fmtTime(row.created_at) }}</span>
          <span :class="{ overdue: row.overdue }" data-test="result-due"><span class="muted">{{ t('searchUi.cols.due') }}</span>
            {{ $fmtTime(row.resolution_due_at) || '—' }}<template v-if="row.overdue"> · {{ t('searchUi.overdue') }}</template></span>
          <span v-if="row.completed_at"><span class="muted">{{ t('searchUi.cols.completed') }}</span> {{ $fmtTime(row.completed_at) }}</span>
          <span v-if="row.lead_enterprise_id || row.enterprise"><span class="muted">{{ t('searchUi.cols.unit') }}</span> {{ unitOf(row) }}</span>
          <span v-if="row.rating"><span class="muted">{{ t('searchUi.cols.rating') }}</span> {{ t('searchUi.ratings.' + row.rating) }}</span>
          <span v-if="row.caller_name || row.caller_phone">{{ row.caller_name }} <span class="mono" data-test="result-phone">{{ row.caller_phone || '' }}</span></span>
        </div>
      </article>
    </div>

    <el-card v-else shadow="never" class="panel table-panel">
      <div ref="results" class="search-results" tabindex="0" data-test="results" @keydown="onResultsKey">
        <el-table ref="table" :data="rows" row-key="id" highlight-current-row class="search-table" row-class-name="search-row"
                  :default-sort="{ prop: sortKey, order: sortOrder }" @sort-change="onSortChange" @row-click="onRowClick">
          <el-table-column prop="number" :label="t('searchUi.cols.number')" width="192" sortable="custom"
                           :sort-orders="['descending', 'ascending']" class-name="col-number">
            <template #default="{ row }">
              <a class="mono link nowrap" :href="'#/orders/' + row.id" data-test="result-number" @click.stop>{{ row.number }}</a>
              <div class="muted small">{{ row.hotline_code }}</div>
            </template>
          </el-table-column>
          <el-table-column prop="registered" :label="t('searchUi.cols.registered')" width="126" sortable="custom"
                           :sort-orders="['descending', 'ascending']" class-name="col-registered">
            <template #default="{ row }">{{ $fmtTime(row.created_at) }}</template>
          </el-table-column>
          <el-table-column :label="t('searchUi.cols.item')" min-width="150">
            <template #default="{ row }">
              <div>{{ $itemName(row.service_item_code) || '—' }}</div>
              <div class="muted small">{{ $areaName(row.area_code) }}</div>
            </template>
          </el-table-column>
          <el-table-column :label="t('searchUi.cols.status')" width="132">
            <template #default="{ row }"><StatusTag :status="row.status" /></template>
          </el-table-column>
          <el-table-column :label="t('searchUi.cols.unit')" min-width="120">
            <template #default="{ row }">{{ unitOf(row) || '—' }}</template>
          </el-table-column>
          <el-table-column prop="due" :label="t('searchUi.cols.due')" width="120" sortable="custom"
                           :sort-orders="['ascending', 'descending']" class-name="col-due">
            <template #default="{ row }">
              <span :class="{ overdue: row.overdue }" data-test="result-due">{{ $fmtTime(row.resolution_due_at) || '—' }}</span>
              <div v-if="row.overdue" class="overdue small">{{ t('searchUi.overdue') }}</div>
            </template>
          </el-table-column>
          <el-table-column prop="completed" :label="t('searchUi.cols.completed')" width="126" sortable="custom"
                           :sort-orders="['descending', 'ascending']" class-name="col-completed">
            <template #default="{ row }">{{ $fmtTime(row.completed_at) || '—' }}</template>
          </el-table-column>
          <el-table-column :label="t('searchUi.cols.rating')" width="90">
            <template #default="{ row }">
              <el-tag v-if="row.rating" disable-transitions size="small" :type="ratingType(row.rating)">{{ t('searchUi.ratings.' + row.rating) }}</el-tag>
              <span v-else class="muted">—</span>
            </template>
          </el-table-column>
          <el-table-column :label="t('searchUi.cols.caller')" width="128">
            <template #default="{ row }">
              <div class="ellipsis">{{ row.caller_name }}</div>
              <div class="mono small muted" data-test="result-phone">{{ row.caller_phone || '' }}</div>
            </template>
          </el-table-column>
          <el-table-column :label="t('searchUi.cols.description')" min-width="190">
            <template #default="{ row }"><div class="clamp-2" data-test="result-description">{{ row.description }}</div></template>
          </el-table-column>
          <el-table-column :label="t('searchUi.cols.flags')" width="130">
            <template #default="{ row }">
              <div v-if="flagged(row)" class="search-flags">
                <el-tag v-if="row.hard_case" disable-transitions size="small" type="danger" data-test="flag-hard-case">{{ t('searchUi.flags.hardCase') }}</el-tag>
                <el-tag v-if="row.redo_count > 0" disable-transitions size="small" type="warning" data-test="flag-redo">{{ t('searchUi.flags.redo') }}</el-tag>
                <el-tag v-if="coordinated(row)" disable-transitions size="small" type="warning" data-test="flag-coordination">{{ t('searchUi.flags.coordination') }}</el-tag>
              </div>
            </template>
          </el-table-column>
        </el-table>
      </div>
    </el-card>

    <div class="history-more">
      <el-button v-if="cursor && !error" class="touch" :loading="loading" data-test="load-more" @click="load(true)">{{ t('searchUi.loadMore') }}</el-button>
    </div>
  </div>`,
};
