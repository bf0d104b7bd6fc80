// Hot issues (热点难点, #/hot, supervisors): over a period and a hotline, what rises against
// its own baseline (items, districts, streets), the heat table of district × item, a
// trend for the chosen issue, the addresses and callers that come back, the orders
// reopened more than once and the most frequent words. Every issue opens the order search
// (#/orders) with its filters; the page prints as a report.

import { computed, onMounted, reactive, ref } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { areaName, errorText, itemName, nameOf, refs } from "../store.js";
import Chart from "./chart.js";
import { ExportMenu } from "./exports.js";
import { centreDay } from "./knowledge/common.js";

// The heat table's columns: the items with most orders in the period.
const HEAT_ITEMS = 10;

// The order search's link for a period and its filters (the names GET /api/v1/orders and
// #/orders share, in that page's order).
function ordersLink(period, filters) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries({
    q: filters.q,
    hotline: period.hotline,
    service_item: filters.service_item,
    area: filters.area,
    registered_from: period.first_day,
    registered_to: period.last_day,
  })) {
    if (value) query.set(key, value);
  }
  return `#/orders?${query.toString()}`;
}

// A rising key's filters: an item, an area, or a district's item.
function keyFilters(dimension, key) {
  if (dimension === "item") return { service_item: key };
  if (dimension === "area_item") {
    const [area, item] = key.split("|");
    return { area, service_item: item };
  }
  return { area: key };
}

function keyName(dimension, key) {
  if (dimension === "item") return itemName(key);
  if (dimension === "area_item") {
    const [area, item] = key.split("|");
    return `${areaName(area)} · ${itemName(item)}`;
  }
  return areaName(key);
}

// A probability as people read it: "< 0.0001" rather than 3.2e-9.
function fmtP(p) {
  if (p < 0.0001) return "< 0.0001";
  return p.toFixed(4);
}

function change(now, before) {
  if (!before) return null;
  return Math.round(((now - before) / before) * 100);
}

const TrendChart = {
  components: { Chart },
  props: { trend: Object, title: String, period: Object },
  setup(props) {
    const { t } = useI18n();
    const option = computed(() => {
      const days = props.trend.days.map((d) => d.day);
      const firstDay = props.period.first_day;
      const expected = props.trend.expected_per_day;
      return {
        grid: { left: 40, right: 16, top: 36, bottom: 28 },
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: [t("hotUi.trendOrders"), t("hotUi.trendExpected")] },
        xAxis: { type: "category", data: days, axisLabel: { hideOverlap: true } },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          {
            name: t("hotUi.trendOrders"),
            type: "line",
            data: props.trend.days.map((d) => d.orders),
            showSymbol: false,
            markArea: { itemStyle: { color: "rgba(220, 38, 38, 0.08)" }, data: [[{ xAxis: firstDay }, { xAxis: days[days.length - 1] }]] },
          },
          {
            name: t("hotUi.trendExpected"),
            type: "line",
            data: props.trend.days.map((d) => (d.day >= firstDay && expected !== null ? expected : null)),
            lineStyle: { type: "dashed" },
            showSymbol: false,
          },
        ],
      };
    });
    return { t, option };
  },
  template: `
  <el-card shadow="never" class="panel hot-trend" data-test="hot-trend">
    <template #header><div class="panel-head"><span>{{ t('hotUi.trend', { name: title }) }}</span>
      <span class="muted small">{{ t('hotUi.trendHint') }}</span></div></template>
    <Chart :option="option" :height="240" />
  </el-card>`,
};

export default {
  components: { ExportMenu, TrendChart },
  setup() {
    const { t } = useI18n();
    const form = reactive({ days: [centreDay(7), centreDay(1)], hotline: "", dimension: "item" });
    // The period the lists show (the form's when last loaded), for their links.
    const shown = ref(null);
    const rising = ref({ items: [], baseline_periods: 0, baseline_months: false, last_year: false });
    const heat = ref([]);
    const addresses = ref([]);
    const callers = ref([]);
    const reopened = ref([]);
    const words = ref([]);
    const selected = ref(null); // {dimension, key}
    const trend = ref(null);
    const error = ref("");
    const loading = ref(false);

    function asked() {
      const [first_day, last_day] = form.days;
      const query = { first_day, last_day };
      if (form.hotline) query.hotline = form.hotline;
      return query;
    }

    async function loadRising() {
      rising.value = await api.get("/api/v1/reports/hot/rising", { ...asked(), dimension: form.dimension });
    }

    async function load() {
      if (!form.days) return;
      loading.value = true;
      try {
        const query = asked();
        const [, cells, byAddress, byCaller, twice, common] = await Promise.all([
          loadRising(),
          api.get("/api/v1/reports/hot/heat", query),
          api.get("/api/v1/reports/hot/repeats", { ...query, kind: "address" }),
          api.get("/api/v1/reports/hot/repeats", { ...query, kind: "caller" }),
          api.get("/api/v1/reports/hot/reopened", query),
          api.get("/api/v1/reports/hot/words", { ...query, limit: 30 }),
        ]);
        heat.value = cells.items;
        addresses.value = byAddress.items;
        callers.value = byCaller.items;
        reopened.value = twice.items;
        words.value = common.items;
        shown.value = query;
        selected.value = null;
        trend.value = null;
        error.value = "";
      } catch (e) {
        error.value = errorText(e);
      } finally {
        loading.value = false;
      }
    }

    async function changeDimension() {
      try {
        await loadRising();
        selected.value = null;
        trend.value = null;
      } catch (e) {
        error.value = errorText(e);
      }
    }

    async function select(row) {
      const pick = { dimension: form.dimension, key: row.key };
      selected.value = pick;
      try {
        trend.value = await api.get("/api/v1/reports/hot/trend", { ...shown.value, ...pick });
      } catch (e) {
        error.value = errorText(e);
      }
    }

    // The heat table: districts down, the period's busiest items across.
    const heatTable = computed(() => {
      const perItem = {};
      for (const cell of heat.value) perItem[cell.item] = (perItem[cell.item] || 0) + cell.orders;
      const items = Object.keys(perItem)
        .sort((a, b) => perItem[b] - perItem[a] || a.localeCompare(b))
        .slice(0, HEAT_ITEMS);
      const byDistrict = {};
      for (const cell of heat.value) (byDistrict[cell.district] ||= {})[cell.item] = cell;
      const max = Math.max(1, ...heat.value.filter((c) => items.includes(c.item)).map((c) => c.orders));
      const districts = Object.keys(byDistrict).sort();
      return { items, districts, byDistrict, max };
    });
    const heatStyle = (cell) => {
      if (!cell) return {};
      const share = cell.orders / heatTable.value.max;
      return {
        background: `rgba(234, 88, 12, ${(0.08 + share * 0.72).toFixed(2)})`,
        color: share > 0.55 ? "#fff" : "inherit",
      };
    };

    const link = (filters) => ordersLink(shown.value || asked(), filters);
    const risingLink = (row) => link(keyFilters(form.dimension, row.key));
    const risingName = (row) => keyName(form.dimension, row.key);
    const selectedName = computed(() => (selected.value ? keyName(selected.value.dimension, selected.value.key) : ""));
    const print = () => window.print();

    onMounted(load);
    return {
      t, refs, form, shown, rising, heat, heatTable, heatStyle, addresses, callers, reopened, words,
      selected, selectedName, trend, error, loading, load, changeDimension, select, link, risingLink,
      risingName, itemName, areaName, nameOf, fmtP, change, print,
    };
  },
  template: `
  <div class="hot-page" data-test="hot-page">
    <div class="hot-head">
      <h2 class="hot-title">{{ t('hotUi.title') }}</h2>
      <span v-if="shown" class="muted hot-period" data-test="hot-period">{{ shown.first_day }} – {{ shown.last_day }}</span>
    </div>
    <div class="tab-toolbar hot-tools">
      <el-date-picker v-model="form.days" type="daterange" value-format="YYYY-MM-DD" unlink-panels :clearable="false"
                      :start-placeholder="t('hotUi.from')" :end-placeholder="t('hotUi.to')" data-test="hot-days" @change="load" />
      <el-select v-model="form.hotline" clearable :placeholder="t('hotUi.allHotlines')" class="hot-hotline" data-test="hot-hotline" @change="load">
        <el-option v-for="h in refs.hotlines" :key="h.code" :value="h.code" :label="h.code + ' ' + nameOf(h)" />
      </el-select>
      <el-button :loading="loading" @click="load">{{ t('app.refresh') }}</el-button>
      <el-button data-test="hot-print" @click="print">{{ t('hotUi.print') }}</el-button>
      <ExportMenu v-if="shown" kind="hot_issues" :params="shown" />
    </div>
    <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" data-test="hot-error" />

    <el-card shadow="never" class="panel" data-test="hot-rising">
      <template #header><div class="panel-head"><span>{{ t('hotUi.rising') }}</span>
        <el-radio-group v-model="form.dimension" size="small" class="hot-dimension" data-test="hot-dimension" @change="changeDimension">
          <el-radio-button value="item">{{ t('hotUi.dimensions.item') }}</el-radio-button>
          <el-radio-button value="district">{{ t('hotUi.dimensions.district') }}</el-radio-button>
          <el-radio-button value="street">{{ t('hotUi.dimensions.street') }}</el-radio-button>
        </el-radio-group></div></template>
      <p class="muted small hot-method">{{ t(rising.baseline_months ? 'hotUi.methodMonths' : 'hotUi.method', { periods: rising.baseline_periods }) }}
        <span v-if="rising.last_year">{{ t('hotUi.withLastYear') }}</span></p>
      <el-table :data="rising.items" size="small" :empty-text="t('hotUi.none')" highlight-current-row
                :row-class-name="({ row }) => row.hot ? 'hot-row' : ''" @row-click="select">
        <el-table-column :label="t('hotUi.issue')" min-width="180"><template #default="{ row }">
          <el-tag v-if="row.hot" type="danger" size="small" effect="dark" class="hot-tag">{{ t('hotUi.hot') }}</el-tag>
          <a class="link" :href="risingLink(row)" data-test="hot-rising-link" @click.stop>{{ risingName(row) }}</a></template></el-table-column>
        <el-table-column :label="t('hotUi.orders')" width="80" align="right"><template #default="{ row }">
          <span class="rate" data-test="hot-rising-orders">{{ row.orders }}</span></template></el-table-column>
        <el-table-column :label="t('hotUi.expected')" width="80" align="right"><template #default="{ row }">{{ row.expected }}</template></el-table-column>
        <el-table-column :label="t('hotUi.excess')" width="80" align="right"><template #default="{ row }">{{ row.excess > 0 ? '+' : '' }}{{ row.excess }}</template></el-table-column>
        <el-table-column :label="t('hotUi.lastYear')" width="80" align="right"><template #default="{ row }">{{ row.last_year ?? '—' }}</template></el-table-column>
        <el-table-column label="p" width="90" align="right"><template #default="{ row }">{{ fmtP(row.p) }}</template></el-table-column>
        <el-table-column width="80"><template #default="{ row }">
          <el-button size="small" text type="primary" data-test="hot-trend-button" @click.stop="select(row)">{{ t('hotUi.showTrend') }}</el-button></template></el-table-column>
      </el-table>
    </el-card>

    <TrendChart v-if="trend" :trend="trend" :title="selectedName" :period="shown" />

    <el-card shadow="never" class="panel" data-test="hot-heat">
      <template #header><div class="panel-head"><span>{{ t('hotUi.heat') }}</span>
        <span class="muted small">{{ t('hotUi.heatHint') }}</span></div></template>
      <div v-if="heatTable.districts.length" class="hot-heat-scroll">
        <table class="hot-heat">
          <thead><tr><th></th><th v-for="item in heatTable.items" :key="item">{{ itemName(item) }}</th></tr></thead>
          <tbody>
            <tr v-for="district in heatTable.districts" :key="district">
              <th>{{ areaName(district) }}</th>
              <td v-for="item in heatTable.items" :key="item" :style="heatStyle(heatTable.byDistrict[district][item])"
                  :class="{ 'hot-cell': heatTable.byDistrict[district][item]?.hot }">
                <a v-if="heatTable.byDistrict[district][item]" :href="link({ area: district, service_item: item })"
                   data-test="hot-heat-cell">{{ heatTable.byDistrict[district][item].orders }}</a>
              </td>
            </tr>
          </tbody>
        </table>
      </div>
      <el-empty v-else :description="t('hotUi.none')" :image-size="60" />
    </el-card>

    <div class="two-col">
      <el-card shadow="never" class="panel" data-test="hot-addresses">
        <template #header><div class="panel-head"><span>{{ t('hotUi.addresses') }}</span>
          <span class="muted small">{{ t('hotUi.repeatsHint') }}</span></div></template>
        <el-table :data="addresses" size="small" :empty-text="t('hotUi.none')">
          <el-table-column :label="t('hotUi.address')" min-width="180"><template #default="{ row }">
            <a class="link" :href="link({ q: row.label })" data-test="hot-address-link">{{ row.label }}</a>
            <div class="muted tiny">{{ areaName(row.area_code) }}</div></template></el-table-column>
          <el-table-column :label="t('hotUi.orders')" width="70" align="right"><template #default="{ row }">{{ row.orders }}</template></el-table-column>
          <el-table-column :label="t('hotUi.days')" width="70" align="right"><template #default="{ row }">{{ row.days }}</template></el-table-column>
        </el-table>
      </el-card>
      <el-card shadow="never" class="panel" data-test="hot-callers">
        <template #header><div class="panel-head"><span>{{ t('hotUi.callers') }}</span>
          <span class="muted small">{{ t('hotUi.repeatsHint') }}</span></div></template>
        <el-table :data="callers" size="small" :empty-text="t('hotUi.none')">
          <el-table-column :label="t('hotUi.phone')" min-width="150"><template #default="{ row }">
            <a class="link" :href="link({ q: row.key })" data-test="hot-caller-link">{{ row.key }}</a>
            <div class="muted tiny">{{ areaName(row.area_code) }}</div></template></el-table-column>
          <el-table-column :label="t('hotUi.orders')" width="70" align="right"><template #default="{ row }">{{ row.orders }}</template></el-table-column>
          <el-table-column :label="t('hotUi.days')" width="70" align="right"><template #default="{ row }">{{ row.days }}</template></el-table-column>
        </el-table>
      </el-card>
    </div>

    <div class="two-col">
      <el-card shadow="never" class="panel" data-test="hot-reopened">
        <template #header><div class="panel-head"><span>{{ t('hotUi.reopened') }}</span>
          <span class="muted small">{{ t('hotUi.reopenedHint') }}</span></div></template>
        <el-table :data="reopened" size="small" :empty-text="t('hotUi.none')">
          <el-table-column :label="t('hotUi.number')" min-width="170"><template #default="{ row }">
            <a class="link mono" :href="'#/orders/' + row.id">{{ row.number }}</a>
            <div class="muted tiny">{{ itemName(row.service_item_code) }} · {{ areaName(row.area_code) }}</div></template></el-table-column>
          <el-table-column :label="t('hotUi.redo')" width="80" align="right"><template #default="{ row }">{{ row.redo_count }}</template></el-table-column>
          <el-table-column :label="t('hotUi.status')" width="100"><template #default="{ row }">{{ t('status.' + row.status) }}</template></el-table-column>
        </el-table>
      </el-card>
      <el-card shadow="never" class="panel" data-test="hot-words">
        <template #header><div class="panel-head"><span>{{ t('hotUi.words') }}</span>
          <span class="muted small">{{ t('hotUi.wordsHint') }}</span></div></template>
        <el-table :data="words" size="small" :empty-text="t('hotUi.none')">
          <el-table-column :label="t('hotUi.word')" min-width="120"><template #default="{ row }">
            <a class="link" :href="link({ q: row.word })" data-test="hot-word-link">{{ row.word }}</a></template></el-table-column>
          <el-table-column :label="t('hotUi.orders')" width="70" align="right"><template #default="{ row }">{{ row.n }}</template></el-table-column>
          <el-table-column :label="t('hotUi.before')" width="80" align="right"><template #default="{ row }">{{ row.previous }}</template></el-table-column>
          <el-table-column :label="t('hotUi.change')" width="80" align="right"><template #default="{ row }">
            <span :class="{ 'hot-up': change(row.n, row.previous) > 0 }">{{ change(row.n, row.previous) === null ? t('hotUi.new') : (change(row.n, row.previous) > 0 ? '+' : '') + change(row.n, row.previous) + '%' }}</span></template></el-table-column>
        </el-table>
      </el-card>
    </div>
  </div>`,
};
