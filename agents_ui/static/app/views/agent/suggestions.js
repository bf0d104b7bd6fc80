// Suggested service items for a description (server: jieba with the catalogue's
// keywords), for the order entry and a draft being confirmed.

import { ref, watch } from "vue";
import { api } from "../../api.js";
import { debounce } from "../../live.js";

export function useSuggestions(textRef) {
  const suggestions = ref([]);
  const fetchSuggestions = debounce(async (text) => {
    if (!text || text.trim().length < 2) {
      suggestions.value = [];
      return;
    }
    try {
      const data = await api.get("/api/v1/service-items/suggest", { text });
      suggestions.value = data.items;
    } catch {
      suggestions.value = [];
    }
  }, 350);
  watch(textRef, (text) => fetchSuggestions(text));
  return suggestions;
}
