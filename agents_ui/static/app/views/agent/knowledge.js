// Knowledge suggestions for the order being entered (GET /api/v1/knowledge/suggest): the
// published articles that match what the caller says, on the hotline, item and area
// chosen, each with its scripted answer (答复口径) readable at a glance. Alt+K (the
// console's key) or a click takes one: its answer goes into the reply of "resolved on the
// call", and the order resolved so records the article it was answered with.

import { computed, reactive, watch } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { debounce } from "../../live.js";

// criteria(): { text, hotline, service_item, area }, asked again after a pause in typing.
export function useKnowledge(criteria) {
  const state = reactive({ items: [], chosen: null });
  let asked = 0;
  function clear() {
    fetchArticles.cancel();
    asked += 1; // an answer still on its way is dropped
    Object.assign(state, { items: [], chosen: null });
  }
  const fetchArticles = debounce(async ({ text, hotline, service_item, area }) => {
    const ask = ++asked;
    if (!text || text.trim().length < 2) {
      state.items = [];
      return;
    }
    try {
      const data = await api.get("/api/v1/knowledge/suggest", { text, hotline, service_item, area });
      if (ask === asked) state.items = data.items;
    } catch {
      if (ask === asked) state.items = []; // the entry works without them
    }
  }, 350);
  watch(criteria, fetchArticles);
  return { state, clear };
}

// What goes into the reply: the scripted answer, else what the article says in short.
export const answerOf = (article) => article.script || article.summary || article.title;

// The panel: the articles, the first marked with its key; the one taken stays shown (and
// marked) even when the description moves on and the suggestions change.
export const KnowledgePanel = {
  props: {
    state: { type: Object, required: true },
    keys: { type: Boolean, default: false },
  },
  emits: ["pick", "drop"],
  setup(props) {
    const { t } = useI18n();
    const shown = computed(() => {
      const chosen = props.state.chosen;
      if (!chosen || props.state.items.some((a) => a.id === chosen.id)) return props.state.items;
      return [chosen, ...props.state.items];
    });
    return { t, shown, answerOf };
  },
  template: `
  <div class="kb-suggest" data-test="kb-suggestions">
    <div class="suggest-head">
      <span class="muted small">{{ t('kbUi.suggested') }}</span>
      <span v-if="!shown.length" class="muted small">{{ t('kbUi.noSuggestion') }}</span>
      <span v-else-if="keys" class="muted small" data-test="kb-key-hint"><kbd>Alt+K</kbd> {{ t('kbUi.keyHint') }}</span>
      <a class="small suggest-model" href="#/knowledge" target="_blank" rel="noopener">{{ t('kbUi.openBase') }}</a>
    </div>
    <div v-for="(a, i) in shown" :key="a.id" class="kb-suggestion" role="button" tabindex="0"
         :class="{ chosen: state.chosen && state.chosen.id === a.id, lead: i === 0 }"
         :data-article="a.id" data-test="kb-suggestion" @click="$emit('pick', a)" @keydown.enter.prevent="$emit('pick', a)">
      <div class="kb-suggestion-top">
        <kbd v-if="keys && i === 0 && state.items[0] && state.items[0].id === a.id">Alt+K</kbd>
        <span class="suggest-name">{{ a.title }}</span>
        <el-tag disable-transitions size="small" effect="plain">{{ t('kbUi.kinds.' + a.kind) }}</el-tag>
        <span v-if="state.chosen && state.chosen.id === a.id" class="kb-taken" data-test="kb-taken">{{ t('kbUi.taken') }}
          <button type="button" class="kb-drop" :title="t('kbUi.drop')" data-test="kb-drop" @click.stop="$emit('drop')">×</button></span>
        <a class="small kb-open" :href="'#/knowledge/' + a.id" target="_blank" rel="noopener" @click.stop>{{ t('kbUi.read') }}</a>
      </div>
      <div class="kb-suggestion-script" :class="{ 'clamp-3': !(state.chosen && state.chosen.id === a.id) }"
           data-test="kb-suggestion-script"><span class="kb-script-label">{{ t('kbUi.script') }}</span>{{ answerOf(a) }}</div>
    </div>
  </div>`,
};
