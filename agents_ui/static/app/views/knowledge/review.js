// The review queue (#/knowledge/review, supervisors): the versions submitted, oldest
// first; the one chosen shown with what it changes against the published version, and
// approved or rejected (a rejection says why) from the article's own review box.

import { computed, onMounted, ref } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText } from "../../store.js";
import ArticleView from "./article.js";
import { KbNav, ownerName, person } from "./common.js";

export default {
  components: { ArticleView, KbNav },
  setup() {
    const { t } = useI18n();
    const items = ref([]);
    const error = ref("");
    const chosen = ref(null); // {article_id, version}
    async function load() {
      try {
        items.value = (await api.get("/api/v1/knowledge/review")).items;
        error.value = "";
        const still = items.value.find((i) => i.article_id === chosen.value?.article_id && i.version === chosen.value?.version);
        chosen.value = still || items.value[0] || null;
      } catch (e) {
        error.value = errorText(e);
      }
    }
    onMounted(load);
    const key = (i) => `${i.article_id}/${i.version}`;
    const isChosen = (i) => chosen.value && key(i) === key(chosen.value);
    const count = computed(() => items.value.length);
    return { t, items, error, chosen, count, load, key, isChosen, person, ownerName: (o) => ownerName(o, t) };
  },
  template: `
  <div class="kb-page">
    <KbNav active="review" />
    <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" />
    <div class="kb-grid">
      <section class="kb-list panel" data-test="kb-review-queue">
        <div class="panel-head kb-list-head"><span>{{ t('kbUi.reviewQueue') }}</span>
          <span class="muted small">{{ t('app.items', count) }}</span></div>
        <div v-if="!items.length" class="empty-line">{{ t('kbUi.nothingToReview') }}</div>
        <ul class="plain-list kb-results">
          <li v-for="i in items" :key="key(i)" class="kb-result" :class="{ active: isChosen(i) }"
              :data-article="i.article_id" :data-version="i.version" @click="chosen = i">
            <div class="kb-result-head"><span class="link">{{ i.title }}</span> <span class="muted small">v{{ i.version }}</span></div>
            <div class="kb-tags">
              <el-tag disable-transitions size="small" effect="plain">{{ t('kbUi.kinds.' + i.kind) }}</el-tag>
              <span class="muted tiny">{{ ownerName(i.owner) }} · {{ person(i.written_by) }} · {{ $fmtTime(i.written_at) }}</span>
            </div>
            <div v-if="i.change_note" class="small kb-result-text">{{ i.change_note }}</div>
          </li>
        </ul>
      </section>
      <section class="kb-view">
        <el-card v-if="chosen" shadow="never" class="panel">
          <ArticleView :key="key(chosen)" :id="chosen.article_id" :version="chosen.version" @changed="load" />
        </el-card>
      </section>
    </div>
  </div>`,
};
