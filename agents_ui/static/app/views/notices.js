// Notices (通报) drafted from a ranking (docs/reports.md, "Rankings and notices"):
// #/notices lists them (supervisors: every one with how many units read it; a unit: the
// ones addressed to it, unread first marked); #/notices/:id edits a draft (title, text,
// units, orders) and publishes it, or shows a published one, printable. A unit marks a
// notice read; the supervisor sees who read it and every change.

import { computed, onBeforeUnmount, onMounted, reactive, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { onNoticeEvent } from "../live.js";
import { errorText, go, refs, session, unitName } from "../store.js";
import { SUPERVISOR_ROLES } from "../vocab.js";
import { figureText } from "./rankings.js";

const isSupervisor = () => SUPERVISOR_ROLES.includes(session.user?.role);

// The list of notices; `unread` is emitted for the unit inbox's badge. A notice published
// to the unit while it is open reloads it.
export const NoticeList = {
  emits: ["unread"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const items = ref([]);
    const loading = ref(false);
    async function load() {
      loading.value = true;
      try {
        const page = await api.get("/api/v1/notices");
        items.value = page.items;
        emit("unread", page.unread ?? 0);
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        loading.value = false;
      }
    }
    onMounted(load);
    onBeforeUnmount(onNoticeEvent(load));
    return { t, items, loading, load, supervisor: isSupervisor() };
  },
  template: `
  <el-card shadow="never" class="panel table-panel">
    <el-table :data="items" size="small" :empty-text="t('noticeUi.empty')" data-test="notice-list" v-loading="loading">
      <el-table-column :label="t('noticeUi.title')" min-width="260">
        <template #default="{ row }">
          <a class="link" :class="{ strong: !supervisor && !row.read_at }" :href="'#/notices/' + row.id" data-test="notice-link">{{ row.title }}</a>
          <el-tag v-if="!supervisor && !row.read_at" size="small" type="danger" class="notice-unread" data-test="notice-unread">{{ t('noticeUi.unread') }}</el-tag>
        </template>
      </el-table-column>
      <el-table-column :label="t('noticeUi.period')" width="200">
        <template #default="{ row }">{{ row.period_start }} ~ {{ row.period_end }}</template>
      </el-table-column>
      <el-table-column v-if="supervisor" :label="t('noticeUi.state')" width="100">
        <template #default="{ row }"><el-tag size="small" :type="row.state === 'published' ? 'success' : 'info'">{{ t('noticeUi.states.' + row.state) }}</el-tag></template>
      </el-table-column>
      <el-table-column v-if="supervisor" :label="t('noticeUi.readBy')" width="110" align="right">
        <template #default="{ row }"><span data-test="notice-read-count">{{ row.units_read }}/{{ row.units }}</span></template>
      </el-table-column>
      <el-table-column :label="t('noticeUi.when')" width="170">
        <template #default="{ row }">{{ $fmtTime(row.published_at || row.created_at) }}</template>
      </el-table-column>
    </el-table>
  </el-card>`,
};

export const NoticesPage = {
  components: { NoticeList },
  setup() {
    const { t } = useI18n();
    return { t, supervisor: isSupervisor() };
  },
  template: `
  <div class="notice-page">
    <div class="page-head">
      <h2>{{ t('noticeUi.listTitle') }}</h2>
      <a v-if="supervisor" class="link" href="#/rankings">{{ t('rankUi.title') }} →</a>
    </div>
    <NoticeList />
  </div>`,
};

export const NoticePage = {
  props: { params: Object },
  setup(props) {
    const { t } = useI18n();
    const notice = ref(null);
    const error = ref("");
    const edit = reactive({ title: "", body: "", units: [], orders: [], busy: false, addUnit: null });
    const supervisor = isSupervisor();
    const id = () => props.params.id;

    function take(data) {
      notice.value = data;
      Object.assign(edit, {
        title: data.title,
        body: data.body,
        units: data.unit_list.map((u) => u.enterprise_id),
        orders: data.orders.map((o) => o.order_id),
      });
    }
    async function load() {
      try {
        take(await api.get(`/api/v1/notices/${id()}`));
        error.value = "";
      } catch (e) {
        error.value = errorText(e);
      }
    }
    onMounted(load);

    const draft = computed(() => supervisor && notice.value?.state === "draft");
    const unitRow = (unitId) => notice.value?.unit_list.find((u) => u.enterprise_id === unitId);
    const shownUnits = computed(() => (draft.value ? edit.units : notice.value?.unit_list.map((u) => u.enterprise_id) || []));
    const ordersOf = (unitId) =>
      (notice.value?.orders || []).filter((o) => o.enterprise_id === unitId && (!draft.value || edit.orders.includes(o.order_id)));
    const addable = computed(() => refs.enterprises.filter((e) => !edit.units.includes(e.id)));

    function removeUnit(unitId) {
      edit.units = edit.units.filter((u) => u !== unitId);
    }
    function addUnit() {
      if (edit.addUnit && !edit.units.includes(edit.addUnit)) edit.units = [...edit.units, edit.addUnit];
      edit.addUnit = null;
    }
    function removeOrder(orderId) {
      edit.orders = edit.orders.filter((o) => o !== orderId);
    }
    async function save() {
      edit.busy = true;
      try {
        const kept = (notice.value.orders || []).filter((o) => edit.units.includes(o.enterprise_id)).map((o) => o.order_id);
        take(await api.patch(`/api/v1/notices/${id()}`, {
          title: edit.title, body: edit.body, units: edit.units, orders: edit.orders.filter((o) => kept.includes(o)),
        }));
        ElMessage.success(t("app.saved"));
        return true;
      } catch (e) {
        ElMessage.error(errorText(e));
        return false;
      } finally {
        edit.busy = false;
      }
    }
    async function publish() {
      try {
        await ElMessageBox.confirm(t("noticeUi.publishConfirm", { n: edit.units.length }), t("noticeUi.publish"), { type: "warning" });
      } catch {
        return;
      }
      if (!(await save())) return;
      try {
        take(await api.post(`/api/v1/notices/${id()}/publish`));
        ElMessage.success(t("noticeUi.published"));
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }
    async function markRead() {
      try {
        take(await api.post(`/api/v1/notices/${id()}/read`));
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }
    const back = () => go(supervisor ? "/notices" : "/unit?tab=notices");
    const print = () => window.print();
    const metricName = (m) => t(`rankUi.metrics.${m}`);
    return {
      t, notice, error, edit, supervisor, draft, unitRow, shownUnits, ordersOf, addable, removeUnit, addUnit,
      removeOrder, save, publish, markRead, back, print, unitName, figureText, metricName,
    };
  },
  template: `
  <div class="notice-page">
    <div class="page-head no-print">
      <el-button text @click="back">← {{ t('noticeUi.back') }}</el-button>
      <span class="grow"></span>
      <el-button data-test="notice-print" @click="print">{{ t('noticeUi.print') }}</el-button>
      <template v-if="draft">
        <el-button :loading="edit.busy" data-test="notice-save" @click="save">{{ t('app.save') }}</el-button>
        <el-button type="primary" data-test="notice-publish" @click="publish">{{ t('noticeUi.publish') }}</el-button>
      </template>
      <el-button v-if="notice && !supervisor && !notice.read_at" type="primary" data-test="notice-mark-read" @click="markRead">{{ t('noticeUi.markRead') }}</el-button>
      <el-tag v-if="notice && !supervisor && notice.read_at" type="success" data-test="notice-read">{{ t('noticeUi.readAt', { at: $fmtTime(notice.read_at) }) }}</el-tag>
    </div>
    <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" />
    <article v-if="notice" class="notice-doc" data-test="notice-doc" :data-state="notice.state">
      <div class="notice-meta no-print muted small">
        <el-tag size="small" :type="notice.state === 'published' ? 'success' : 'info'" data-test="notice-state">{{ t('noticeUi.states.' + notice.state) }}</el-tag>
        {{ t('noticeUi.basis', { start: notice.period_start, end: notice.period_end, metric: metricName(notice.metric) }) }}
      </div>
      <template v-if="draft">
        <el-input v-model="edit.title" class="notice-title-input" maxlength="200" data-test="notice-title-input" />
        <el-input v-model="edit.body" type="textarea" :autosize="{ minRows: 6, maxRows: 20 }" maxlength="20000" data-test="notice-body-input" />
      </template>
      <template v-else>
        <h1 class="notice-title" data-test="notice-title">{{ notice.title }}</h1>
        <p class="notice-sub muted">{{ t('noticeUi.period') }}: {{ notice.period_start }} ~ {{ notice.period_end }}
          <span v-if="notice.published_at"> · {{ t('noticeUi.publishedAt', { at: $fmtTime(notice.published_at, true) }) }}</span></p>
        <div class="notice-body" data-test="notice-body">{{ notice.body }}</div>
      </template>

      <h3>{{ t('noticeUi.units') }}</h3>
      <section v-for="unitId in shownUnits" :key="unitId" class="notice-unit" data-test="notice-unit" :data-unit="unitId">
        <div class="notice-unit-head">
          <span class="strong" data-test="notice-unit-name">{{ unitName(unitId) }}</span>
          <span v-if="unitRow(unitId) && unitRow(unitId).rank" class="muted small">
            {{ t('noticeUi.rankOf', { rank: unitRow(unitId).rank, metric: metricName(notice.metric), value: figureText(notice.metric, unitRow(unitId).value) }) }}</span>
          <span v-if="supervisor && notice.state === 'published'" class="small notice-read-state" data-test="notice-unit-read">
            {{ unitRow(unitId).read_at ? t('noticeUi.readAtBy', { at: $fmtTime(unitRow(unitId).read_at), who: unitRow(unitId).read_by_name || '' }) : t('noticeUi.notRead') }}</span>
          <span class="grow"></span>
          <el-button v-if="draft" size="small" text type="danger" class="no-print" data-test="notice-remove-unit" @click="removeUnit(unitId)">{{ t('noticeUi.remove') }}</el-button>
        </div>
        <el-table v-if="ordersOf(unitId).length" :data="ordersOf(unitId)" size="small" class="notice-orders">
          <el-table-column :label="t('unit.number')" width="190">
            <template #default="{ row }"><a class="mono link" :href="'#/orders/' + row.order_id" data-test="notice-order">{{ row.number }}</a></template>
          </el-table-column>
          <el-table-column :label="t('unit.item')" min-width="150"><template #default="{ row }">{{ $itemName(row.service_item_code) }}</template></el-table-column>
          <el-table-column :label="t('noticeUi.reason')" width="120"><template #default="{ row }">{{ t('noticeUi.reasons.' + row.reason) }}</template></el-table-column>
          <el-table-column :label="t('noticeUi.due')" width="150"><template #default="{ row }">{{ $fmtTime(row.resolution_due_at, true) }}</template></el-table-column>
          <el-table-column :label="t('noticeUi.completed')" width="150"><template #default="{ row }">{{ row.completed_at ? $fmtTime(row.completed_at, true) : '—' }}</template></el-table-column>
          <el-table-column v-if="draft" width="80" class-name="no-print">
            <template #default="{ row }"><el-button size="small" text type="danger" data-test="notice-remove-order" @click="removeOrder(row.order_id)">{{ t('noticeUi.remove') }}</el-button></template>
          </el-table-column>
        </el-table>
        <div v-else class="muted small">{{ t('noticeUi.noOrders') }}</div>
      </section>
      <div v-if="draft" class="notice-add no-print">
        <el-select v-model="edit.addUnit" filterable clearable :placeholder="t('noticeUi.addUnit')" data-test="notice-add-unit">
          <el-option v-for="e in addable" :key="e.id" :value="e.id" :label="unitName(e.id)" />
        </el-select>
        <el-button :disabled="!edit.addUnit" @click="addUnit">{{ t('noticeUi.add') }}</el-button>
      </div>

      <template v-if="supervisor && notice.changes">
        <h3 class="no-print">{{ t('noticeUi.changes') }}</h3>
        <ul class="plain-list notice-changes no-print" data-test="notice-changes">
          <li v-for="(c, i) in notice.changes" :key="i">
            <span class="muted">{{ $fmtTime(c.at, true) }}</span> {{ c.user_name || '' }}
            {{ t('noticeUi.actions.' + c.action) }}<span v-if="c.enterprise_id"> ({{ unitName(c.enterprise_id) }})</span>
          </li>
        </ul>
      </template>
    </article>
  </div>`,
};
