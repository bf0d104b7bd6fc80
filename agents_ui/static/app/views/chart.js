// An ECharts chart as a component: the option in, the chart kept in step with it.

import { onBeforeUnmount, onMounted, ref, watch } from "vue";
import * as echarts from "echarts";

export const FONT = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';
// Short entry animations: the board redraws its charts on live reloads.
const BASE = { textStyle: { fontFamily: FONT }, animationDuration: 400 };

export default {
  props: { option: { type: Object, required: true }, height: { type: Number, default: 260 } },
  setup(props) {
    const el = ref(null);
    let chart = null;
    const resize = () => chart && chart.resize();
    onMounted(() => {
      chart = echarts.init(el.value, null, { renderer: "canvas" });
      chart.setOption({ ...BASE, ...props.option });
      window.addEventListener("resize", resize);
    });
    watch(
      () => props.option,
      (option) => chart && chart.setOption({ ...BASE, ...option }, true),
      { deep: true },
    );
    onBeforeUnmount(() => {
      window.removeEventListener("resize", resize);
      if (chart) chart.dispose();
    });
    return { el };
  },
  template: `<div ref="el" class="chart" :style="{ height: height + 'px' }"></div>`,
};
