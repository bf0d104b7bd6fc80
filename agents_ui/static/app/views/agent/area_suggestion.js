// The area (district, street) suggested from the address and the caller's phone
// (GET /api/v1/areas/suggest: the caller's history, the centre's orders naming the road,
// the seed road list, a district the address names). It prefills the area picker, marked
// as a suggestion with its reason until the agent confirms it (a click, or Enter in the
// address); an area the agent picked by hand is never replaced, the suggestion is then
// only offered beside it.

import { reactive, watch } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { debounce } from "../../live.js";
import { nameOf } from "../../store.js";

// Asked once the agent pauses typing the address.
const ASK_DELAY_MS = 350;

function codeOf(found) {
  return found?.street?.code || found?.district?.code || "";
}

// form: the entry form (its address, caller_phone, area and request_id, which a new
// order renews). Returns the state the picker's line shows and what the agent can do.
export function useAreaSuggestion(form) {
  // by: who put form.area there: "" (nobody, or the call's prefill), "suggestion" (not
  // yet confirmed) or "agent" (picked or confirmed: kept).
  const state = reactive({ answer: null, by: "" });
  let asked = 0;

  const ask = debounce(async () => {
    const mine = ++asked;
    const address = form.address.trim();
    if (!address && !form.caller_phone) return show(mine, null);
    try {
      const query = { address };
      if (form.caller_phone) query.phone = form.caller_phone;
      show(mine, await api.get("/api/v1/areas/suggest", query));
    } catch {
      show(mine, null); // a number still being typed is no phone yet
    }
  }, ASK_DELAY_MS);

  function show(mine, answer) {
    if (mine !== asked) return; // an older answer arriving late is dropped
    state.answer = answer;
    if (state.by === "agent") return;
    const code = codeOf(answer);
    if (code) {
      form.area = code;
      state.by = "suggestion";
    } else if (state.by === "suggestion") {
      form.area = ""; // what it was suggested from is gone
      state.by = "";
    }
  }

  watch(() => [form.address, form.caller_phone], ask);
  // A new order (the form was cleared or a call answered): nothing chosen yet.
  watch(
    () => form.request_id,
    () => {
      ask.cancel();
      asked++;
      Object.assign(state, { answer: null, by: "" });
      if (form.address || form.caller_phone) ask();
    },
  );

  // The picker changed by the agent's hand; cleared, the next suggestion may fill it.
  function choose(code) {
    form.area = code || "";
    state.by = code ? "agent" : "";
  }

  function confirm() {
    if (state.by === "suggestion") state.by = "agent";
  }

  // Enter in the address confirms a pending suggestion instead of saving the order.
  function onEnter(event) {
    if (state.by !== "suggestion") return;
    event.preventDefault();
    confirm();
  }

  return { state, choose, confirm, onEnter };
}

// The line under the area picker: the suggestion and its reason, confirm, and the
// alternatives (or the candidates to choose from when the road lies in several districts).
export const AreaSuggestionLine = {
  props: { suggestion: Object, area: String },
  setup(props) {
    const { t } = useI18n();
    const label = (found) => [found.district, found.street].filter(Boolean).map(nameOf).join(" ");
    // Set aside by the agent's own pick: the suggestion itself is offered beside it.
    const overruled = () => {
      const code = codeOf(props.suggestion.state.answer);
      return Boolean(code) && props.suggestion.state.by === "agent" && code !== props.area;
    };
    const others = () => {
      const answer = props.suggestion.state.answer;
      if (!answer) return [];
      return [...(overruled() ? [answer] : []), ...answer.alternatives].filter(
        (found) => codeOf(found) !== props.area,
      );
    };
    const othersLabel = () => {
      if (!codeOf(props.suggestion.state.answer)) return t("areaSuggest.choose");
      return overruled() ? t("areaSuggest.suggestedToo") : t("areaSuggest.orElse");
    };
    return { t, label, others, othersLabel, codeOf };
  },
  template: `
  <div v-if="suggestion.state.answer && (suggestion.state.answer.source || suggestion.state.answer.alternatives.length)"
       class="area-suggestion" data-test="area-suggestion">
    <template v-if="suggestion.state.by === 'suggestion'">
      <el-tag size="small" type="warning" effect="dark" data-test="area-suggested">{{ t('areaSuggest.suggested') }}</el-tag>
      <span class="small">{{ t('areaSuggest.because', { reason: suggestion.state.answer.reason }) }}</span>
      <el-button size="small" type="primary" plain data-test="area-confirm" @click="suggestion.confirm()">
        {{ t('areaSuggest.confirm') }} <kbd>Enter</kbd></el-button>
    </template>
    <template v-else-if="suggestion.state.by === 'agent' && area === codeOf(suggestion.state.answer)">
      <el-tag size="small" type="success" data-test="area-confirmed">{{ t('areaSuggest.confirmed') }}</el-tag>
      <span class="small muted">{{ t('areaSuggest.because', { reason: suggestion.state.answer.reason }) }}</span>
    </template>
    <span v-else-if="!codeOf(suggestion.state.answer)" class="small" data-test="area-unsure">{{ suggestion.state.answer.reason }}</span>
    <template v-if="others().length">
      <span class="small muted">{{ othersLabel() }}</span>
      <el-button v-for="found in others()" :key="codeOf(found)" size="small" round
                 :data-code="codeOf(found)" :title="found.reason" data-test="area-alternative"
                 @click="suggestion.choose(codeOf(found))">{{ label(found) }}</el-button>
    </template>
  </div>`,
};
