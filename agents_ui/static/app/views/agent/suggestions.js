// Suggested service items for a description (server: jieba with the catalogue's
// keywords), for the order entry and a draft being confirmed. `urgency`, when given, is a
// ref the answer's 紧急 suggestion goes into (null when the words suggest none).

import { ref, watch } from "vue";
import { api } from "../../api.js";
import { debounce } from "../../live.js";

export function useSuggestions(textRef, urgency = null) {
  const suggestions = ref([]);
  const fetchSuggestions = debounce(async (text) => {
    if (!text || text.trim().length < 2) {
      suggestions.value = [];
      if (urgency) urgency.value = null;
      return;
    }
    try {
      const data = await api.get("/api/v1/service-items/suggest", { text });
      suggestions.value = data.items;
      if (urgency) urgency.value = data.urgency || null;
    } catch {
      suggestions.value = [];
      if (urgency) urgency.value = null;
    }
  }, 350);
  watch(textRef, (text) => fetchSuggestions(text));
  return suggestions;
}
