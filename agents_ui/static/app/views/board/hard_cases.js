// Hard cases (办不成事): their figures this month, apart from the others (registered,
// completed, the on-time rate against their own limit, open and overdue now), and the
// open ones, the nearest limit first, coordinated here as in the coordination queue.

import { computed } from "vue";
import { useI18n } from "vue-i18n";
import Coordination from "./coordination.js";

export default {
  components: { Coordination },
  // rows: GET /api/v1/orders?hard_case=true&status=<open>&sort=due
  // figures: GET /api/v1/figures/hard-cases, one row per hotline
  props: { rows: Array, figures: Array },
  emits: ["decided"],
  setup(props) {
    const { t } = useI18n();
    const shown = computed(() => {
      const sum = (field) => (props.figures || []).reduce((n, row) => n + row[field], 0);
      const completed = sum("completed");
      const onTime = completed ? `${((100 * sum("completed_on_time")) / completed).toFixed(1)}%` : "—";
      const overdue = sum("overdue");
      return [
        { key: "registered", value: sum("registered") },
        { key: "completed", value: completed },
        { key: "onTimeRate", value: onTime },
        { key: "open", value: sum("open") },
        { key: "overdue", value: overdue, danger: overdue > 0 },
      ];
    });
    return { t, shown };
  },
  template: `
  <div class="hard-case-figures" data-test="hard-case-figures">
    <span class="muted small">{{ t('hardCase.thisMonth') }}</span>
    <span v-for="f in shown" :key="f.key" class="hc-figure" :class="{ 'hc-danger': f.danger }" :data-figure="f.key">
      <b>{{ f.value }}</b> {{ t('hardCase.' + f.key) }}</span>
  </div>
  <Coordination :rows="rows" hard @decided="$emit('decided')" />`,
};
