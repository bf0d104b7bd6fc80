// The knowledge base (#/knowledge): search (ranked by the server, synonyms applied there),
// filters, the results, and the article chosen (#/knowledge/{id}, ?version=N for another
// version) beside them. The search is asked when the reader presses Enter or the button,
// not at each key: a search that finds nothing is recorded as a gap in the knowledge, and
// half a word would record nonsense. The query and its results live at module level, so
// that opening an article (a new route) keeps them.

import { computed, onMounted, reactive } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { errorText, go, nameOf, refs, session } from "../store.js";
import { KB_KINDS, UNIT_ROLES } from "../vocab.js";
import { ItemSelect } from "./pickers.js";
import ArticleView from "./knowledge/article.js";
import { KbNav, isWriter, ownerName, stateType } from "./knowledge/common.js";

const PAGE = 30;
const FILTERS = ["kind", "service_item", "hotline", "state", "owner", "review_overdue"];
const search = reactive({ q: "", kind: "", service_item: "", hotline: "", state: "published", owner: "", review_overdue: false });
const results = reactive({ items: [], next: null, loading: false, error: "", asked: null, q: "" });

function query() {
  const out = { q: search.q.trim(), limit: PAGE };
  for (const key of FILTERS) out[key] = search[key] === false ? "" : search[key];
  if (!isWriter()) delete out.state; // readers see published articles only
  return out;
}

async function run(more = false) {
  const asked = query();
  const key = JSON.stringify(asked);
  results.loading = true;
  try {
    const data = await api.get("/api/v1/knowledge/articles", more ? { ...asked, cursor: results.next } : asked);
    results.items = more ? [...results.items, ...data.items] : data.items;
    Object.assign(results, { next: data.next_cursor, error: "", asked: key, q: asked.q });
  } catch (e) {
    results.error = errorText(e);
  } finally {
    results.loading = false;
  }
}

export default {
  components: { ArticleView, ItemSelect, KbNav },
  props: { params: Object },
  setup(props) {
    const { t } = useI18n();
    const id = computed(() => (props.params.id ? Number(props.params.id) : null));
    const version = computed(() => (props.params.version ? Number(props.params.version) : null));
    // A link may carry a filter (an item's articles: #/knowledge?service_item=W05).
    for (const key of ["q", ...FILTERS]) {
      if (key in props.params) search[key] = key === "review_overdue" ? props.params[key] === "true" : props.params[key];
    }
    onMounted(() => {
      if (results.asked !== JSON.stringify(query())) run();
    });

    // Units choose between the centre's articles and their own; the centre among all.
    const owners = computed(() => {
      const user = session.user;
      const units = UNIT_ROLES.includes(user.role) ? refs.enterprises.filter((e) => e.id === user.enterprise_id) : refs.enterprises;
      return [{ value: "centre", label: t("kbUi.centre") }, ...units.map((e) => ({ value: String(e.id), label: nameOf(e) }))];
    });
    const states = ["published", "draft", "submitted", "rejected", "all"];
    const open = (item) => {
      const other = search.state !== "published" && item.latest_version !== item.published_version;
      go(`/knowledge/${item.id}` + (other ? `?version=${item.latest_version}` : ""));
    };
    const changed = () => run();
    return {
      t, id, version, search, results, owners, states, KB_KINDS, refs, nameOf, isWriter, stateType,
      run, open, changed, ownerName: (owner) => ownerName(owner, t),
    };
  },
  template: `
  <div class="kb-page">
    <KbNav active="search" />
    <div class="kb-grid" :class="{ 'kb-reading': id }">
      <section class="kb-list panel">
        <form class="kb-search" @submit.prevent="run()">
          <el-input v-model="search.q" clearable :placeholder="t('kbUi.searchHint')" data-test="kb-q" @clear="run()" />
          <el-button type="primary" native-type="submit" :loading="results.loading" data-test="kb-search">{{ t('kbUi.search') }}</el-button>
        </form>
        <div class="kb-filters">
          <el-select v-model="search.kind" clearable :placeholder="t('kbUi.kind')" data-test="kb-kind" @change="run()">
            <el-option v-for="k in KB_KINDS" :key="k" :value="k" :label="t('kbUi.kinds.' + k)" />
          </el-select>
          <el-select v-model="search.hotline" clearable :placeholder="t('kbUi.fields.hotlines')" @change="run()">
            <el-option v-for="h in refs.hotlines" :key="h.code" :value="h.code" :label="h.code + ' ' + nameOf(h)" />
          </el-select>
          <div class="kb-filter-item"><ItemSelect v-model="search.service_item" :placeholder="t('kbUi.fields.service_items')" @update:model-value="run()" /></div>
          <el-select v-if="isWriter()" v-model="search.state" data-test="kb-state-filter" @change="run()">
            <el-option v-for="s in states" :key="s" :value="s" :label="t('kbUi.stateFilter.' + s)" />
          </el-select>
          <el-select v-model="search.owner" clearable :placeholder="t('kbUi.owner')" @change="run()">
            <el-option v-for="o in owners" :key="o.value" :value="o.value" :label="o.label" />
          </el-select>
          <el-checkbox v-model="search.review_overdue" data-test="kb-overdue-filter" @change="run()">{{ t('kbUi.reviewOverdue') }}</el-checkbox>
        </div>
        <el-alert v-if="results.error" :title="results.error" type="error" show-icon :closable="false" />
        <div class="muted small kb-count">
          <template v-if="results.q">{{ t('kbUi.foundFor', { n: results.items.length + (results.next ? '+' : ''), q: results.q }) }}</template>
          <template v-else>{{ t('app.items', results.items.length) }}</template>
        </div>
        <div v-if="!results.items.length && !results.loading" class="empty-line" data-test="kb-none">
          {{ results.q ? t('kbUi.nothingFound') : t('kbUi.empty') }}</div>
        <ul class="plain-list kb-results" data-test="kb-results">
          <li v-for="item in results.items" :key="item.id" :data-article="item.id" class="kb-result"
              :class="{ active: item.id === id }" @click="open(item)">
            <div class="kb-result-head">
              <a class="link" :href="'#/knowledge/' + item.id" @click.prevent>{{ item.title }}</a>
            </div>
            <div class="kb-tags">
              <el-tag disable-transitions size="small" effect="plain">{{ t('kbUi.kinds.' + item.kind) }}</el-tag>
              <el-tag v-if="item.latest_state && item.latest_state !== 'published'" disable-transitions size="small"
                      :type="stateType(item.latest_state)">v{{ item.latest_version }} · {{ t('kbUi.states.' + item.latest_state) }}</el-tag>
              <el-tag v-if="item.demo" disable-transitions size="small" type="warning" effect="dark">{{ t('kbUi.demo') }}</el-tag>
              <el-tag v-if="item.review_overdue" disable-transitions size="small" type="danger">{{ t('kbUi.reviewOverdue') }}</el-tag>
              <span class="muted tiny">{{ ownerName(item.owner) }}</span>
            </div>
            <div v-if="item.script || item.summary" class="small clamp-2 kb-result-text">{{ item.script || item.summary }}</div>
          </li>
        </ul>
        <el-button v-if="results.next" class="full" :loading="results.loading" @click="run(true)">{{ t('kbUi.more') }}</el-button>
      </section>
      <section class="kb-view">
        <div v-if="id" class="kb-back"><a href="#/knowledge">← {{ t('kbUi.backToResults') }}</a></div>
        <el-card v-if="id" shadow="never" class="panel">
          <ArticleView :id="id" :version="version" @changed="changed" />
        </el-card>
        <div v-else class="kb-placeholder muted">{{ t('kbUi.pick') }}</div>
      </section>
    </div>
  </div>`,
};
