// The live counters at the top of the board; a counter with a list behind it opens that
// list's tab.

import { computed } from "vue";
import { useI18n } from "vue-i18n";

// [counter, colour, the tab that lists its orders]
const COUNTERS = [
  ["registered_today", "primary", null],
  ["open", "primary", "overdue"],
  ["due_soon", "warning", "overdue"],
  ["overdue", "danger", "overdue"],
  ["in_coordination", "danger", "coordination"],
  ["returns_pending", "warning", "returns"],
  ["time_requests_pending", "warning", "timeRequests"],
  ["callbacks_due", "success", null],
];

export default {
  props: { board: Object }, // GET /api/v1/board, null until it answers
  emits: ["go"],
  setup(props) {
    const { t } = useI18n();
    const counters = computed(() =>
      COUNTERS.map(([key, type, target]) => ({
        key, type, target, value: props.board ? props.board.counters[key] : null,
      })),
    );
    return { t, counters };
  },
  template: `
  <div class="counter-grid" data-test="counters">
    <button v-for="c in counters" :key="c.key" class="counter" :class="'counter-' + c.type"
            :data-counter="c.key" @click="c.target && $emit('go', c.target)">
      <span class="counter-value" data-test="counter-value">{{ c.value === null ? '…' : c.value }}</span>
      <span class="counter-label">{{ t('board.counters.' + c.key) }}</span>
      <span v-if="c.key === 'due_soon' && board" class="counter-hint">{{ t('board.dueSoonHint', { h: board.due_soon_hours }) }}</span>
    </button>
  </div>`,
};
