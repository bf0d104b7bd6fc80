// Suggested service items for a description (GET /api/v1/service-items/suggest: the
// trained classifier, docs/suggest.md), for the order entry and a draft being confirmed:
// the top three with their probability, the words that weighed and the unit routing would
// choose, and "not sure" when the classifier is (or no model is trained yet). `urgency`,
// when given, is a ref the answer's 紧急 suggestion goes into (null when none).

import { reactive, watch } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { debounce } from "../../live.js";
import { nameOf, unitName } from "../../store.js";

// criteria(): { text, hotline, channel, area } of the order being entered; asked again
// (after a pause in typing) whenever one of them changes: the hotline and channel lean
// the suggestion, the area decides the unit.
export function useSuggestions(criteria, urgency = null) {
  const state = reactive({ items: [], notSure: false, model: null });
  let asked = 0;
  function clear() {
    fetchSuggestions.cancel();
    asked += 1; // an answer still on its way is dropped
    Object.assign(state, { items: [], notSure: false, model: null });
    if (urgency) urgency.value = null;
  }
  const fetchSuggestions = debounce(async ({ text, hotline, channel, area }) => {
    if (!text || text.trim().length < 2) {
      clear();
      return;
    }
    const ask = ++asked;
    try {
      const data = await api.get("/api/v1/service-items/suggest", { text, hotline, channel, area, limit: 3 });
      if (ask !== asked) return;
      Object.assign(state, { items: data.items, notSure: data.not_sure, model: data.model });
      if (urgency) urgency.value = data.urgency || null;
    } catch {
      if (ask === asked) clear();
    }
  }, 350);
  watch(criteria, fetchSuggestions);
  // The first item the panel shows, sent with the registration (suggested_item_code) so
  // that training tells a correction from an accepted suggestion; null when none shows.
  const first = () => state.items[0]?.code || null;
  return { state, clear, first };
}

// The panel. Nothing is ever chosen for the agent: a click, or Alt+1/2/3 on the entry
// form (keys), picks one. When the classifier is not sure it says so and the first item
// is not set apart from the others.
export const SuggestPanel = {
  props: {
    state: { type: Object, required: true },
    chosen: { type: String, default: "" },
    keys: { type: Boolean, default: false },
  },
  emits: ["pick"],
  setup() {
    const { t } = useI18n();
    const percent = (s) => Math.round(s.probability * 100);
    const words = (s) => t("suggestUi.words", { words: s.words.join(t("suggestUi.wordSeparator")) });
    const unit = (s) => (s.unit ? unitName(s.unit.enterprise_id) || s.unit.name : t("suggestUi.centre"));
    return { t, nameOf, percent, words, unit };
  },
  template: `
  <div class="suggest-panel" :class="{ 'not-sure': state.notSure && state.items.length }" data-test="suggestions"
       :data-not-sure="String(state.notSure)">
    <div class="suggest-head">
      <span class="muted small">{{ t('agent.suggested') }}</span>
      <span v-if="!state.items.length" class="muted small">{{ t('agent.noSuggestion') }}</span>
      <span v-else-if="state.notSure" class="suggest-unsure" data-test="not-sure">{{ t('suggestUi.notSure') }}</span>
      <span v-if="state.model" class="muted small suggest-model">{{ t('suggestUi.model', { version: state.model.version }) }}</span>
    </div>
    <button v-for="(s, i) in state.items" :key="s.code" type="button" class="suggest-item"
            :class="{ chosen: chosen === s.code, lead: i === 0 && !state.notSure }"
            :data-code="s.code" data-test="suggestion" @click="$emit('pick', i)">
      <span class="suggest-top">
        <kbd v-if="keys">Alt+{{ i + 1 }}</kbd>
        <span class="suggest-name">{{ nameOf(s) }}</span>
        <span v-if="s.probability !== null" class="suggest-prob" data-test="suggestion-probability">
          <span class="suggest-bar"><i :style="{ width: percent(s) + '%' }"></i></span>{{ percent(s) }}%</span>
      </span>
      <span class="suggest-why">
        <span v-if="s.words.length" data-test="suggestion-words">{{ words(s) }}</span>
        <span class="suggest-unit" :title="s.unit ? s.unit.reason : ''" data-test="suggestion-unit">→ {{ unit(s) }}</span>
      </span>
    </button>
  </div>`,
};
