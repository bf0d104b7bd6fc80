// 用户管理: the administrators' list of users with filters; make and edit a user (role,
// enterprise or hotlines), disable and enable, set or generate a password (shown once),
// unlock after failed logins, log out everywhere; each user's recorded changes.

import { computed, onMounted, reactive, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText, nameOf, refs } from "../../store.js";
import { ROLES, UNIT_ROLES } from "../../vocab.js";
import { ChangeList, ShownOnce } from "./common.js";

function blankForm() {
  return {
    username: "", display_name: "", role: "agent", enterprise_code: "", hotline_code: "", hotlines: [],
    passwordMode: "generate", password: "",
  };
}

export default {
  components: { ChangeList, ShownOnce },
  setup() {
    const { t } = useI18n();
    const filters = reactive({ q: "", role: "", hotline: "", enterprise_id: "", active: "" });
    const users = ref([]);
    const loading = ref(false);
    const dialog = reactive({ open: false, editing: null, saving: false, errors: {} });
    const form = reactive(blankForm());
    const password = reactive({ open: false, user: null, mode: "generate", value: "", shown: "", errors: {} });
    const history = reactive({ open: false, user: null });
    const created = ref(null); // { user, password } after a make with a generated password

    const units = computed(() => refs.enterprises.filter((e) => e.active !== false));
    const isUnitRole = (role) => UNIT_ROLES.includes(role);
    const unitCode = (id) => refs.enterprisesById[id]?.code;

    async function load() {
      loading.value = true;
      try {
        users.value = (await api.get("/api/v1/admin/users", filters)).items;
      } finally {
        loading.value = false;
      }
    }
    onMounted(load);

    function openCreate() {
      Object.assign(form, blankForm());
      dialog.editing = null;
      dialog.errors = {};
      dialog.open = true;
    }
    function openEdit(user) {
      Object.assign(form, blankForm(), {
        username: user.username,
        display_name: user.display_name,
        role: user.role,
        enterprise_code: user.enterprise_code || "",
        hotline_code: user.hotline_code || "",
        hotlines: [...user.hotlines],
      });
      dialog.editing = user;
      dialog.errors = {};
      dialog.open = true;
    }

    // What the form sends: an enterprise for a unit's role, hotlines for the centre's.
    function placement() {
      const unit = isUnitRole(form.role);
      return {
        role: form.role,
        enterprise_code: unit ? form.enterprise_code || null : null,
        hotline_code: unit ? null : form.hotline_code || null,
        hotlines: unit ? [] : form.hotlines,
      };
    }

    async function save() {
      dialog.saving = true;
      dialog.errors = {};
      try {
        if (dialog.editing) {
          await api.patch(`/api/v1/admin/users/${dialog.editing.id}`, {
            display_name: form.display_name || dialog.editing.display_name,
            ...placement(),
          });
          ElMessage.success(t("app.saved"));
        } else {
          const made = await api.post("/api/v1/admin/users", {
            username: form.username,
            display_name: form.display_name,
            ...placement(),
            password: form.passwordMode === "set" ? form.password : null,
          });
          if (made.password) created.value = made;
          else ElMessage.success(t("adminUi.created", { name: made.user.username }));
        }
        dialog.open = false;
        await load();
      } catch (e) {
        dialog.errors = e.fields || {};
        ElMessage.error(errorText(e));
      } finally {
        dialog.saving = false;
      }
    }

    // An action after the administrator confirms it; the list is read again after.
    async function act(user, action, confirmKey) {
      try {
        await ElMessageBox.confirm(t(confirmKey, { name: user.display_name }), t("adminUi.confirm"), {
          type: "warning",
          confirmButtonText: t("adminUi.actions." + action),
          cancelButtonText: t("app.cancel"),
        });
      } catch {
        return; // cancelled
      }
      try {
        const answer = await api.post(`/api/v1/admin/users/${user.id}/${action}`);
        if (action === "logout") ElMessage.success(t("adminUi.loggedOut", { n: answer.ended }));
        else ElMessage.success(t("adminUi.done"));
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    function openPassword(user) {
      Object.assign(password, { open: true, user, mode: "generate", value: "", shown: "", errors: {} });
    }
    async function resetPassword() {
      password.errors = {};
      try {
        const answer = await api.post(`/api/v1/admin/users/${password.user.id}/password`, {
          password: password.mode === "set" ? password.value : null,
        });
        if (answer.password) password.shown = answer.password;
        else {
          password.open = false;
          ElMessage.success(t("adminUi.passwordSet"));
        }
        await load();
      } catch (e) {
        password.errors = e.fields || {};
        ElMessage.error(errorText(e));
      }
    }

    function openHistory(user) {
      history.user = user;
      history.open = true;
    }

    return {
      t, ROLES, filters, users, loading, load, dialog, form, units, isUnitRole, unitCode, openCreate, openEdit,
      save, act, password, openPassword, resetPassword, history, openHistory, created, refs, nameOf,
    };
  },
  template: `
  <div class="admin-users">
    <div class="page-head">
      <h2>{{ t('adminUi.usersTitle') }}</h2>
      <span class="grow"></span>
      <el-button type="primary" data-test="user-new" @click="openCreate">{{ t('adminUi.newUser') }}</el-button>
    </div>
    <div class="admin-filters">
      <el-input v-model="filters.q" clearable :placeholder="t('adminUi.searchName')" data-test="user-q"
                @keyup.enter="load" @clear="load" />
      <el-select v-model="filters.role" clearable :placeholder="t('adminUi.role')" @change="load">
        <el-option v-for="r in ROLES" :key="r" :value="r" :label="t('roles.' + r)" />
      </el-select>
      <el-select v-model="filters.hotline" clearable :placeholder="t('adminUi.hotline')" @change="load">
        <el-option v-for="h in refs.hotlines" :key="h.code" :value="h.code" :label="h.code + ' ' + nameOf(h)" />
      </el-select>
      <el-select v-model="filters.enterprise_id" clearable filterable :placeholder="t('adminUi.enterprise')" @change="load">
        <el-option v-for="e in units" :key="e.id" :value="e.id" :label="nameOf(e)" />
      </el-select>
      <el-select v-model="filters.active" clearable :placeholder="t('adminUi.state')" @change="load">
        <el-option value="true" :label="t('adminUi.active')" />
        <el-option value="false" :label="t('adminUi.disabled')" />
      </el-select>
      <el-button @click="load">{{ t('app.refresh') }}</el-button>
    </div>
    <el-card shadow="never" class="panel">
      <el-table v-loading="loading" :data="users" data-test="users" :empty-text="t('adminUi.noUsers')">
        <el-table-column :label="t('adminUi.username')" min-width="130">
          <template #default="{ row }"><span class="mono" data-test="user-username">{{ row.username }}</span>
            <div class="small muted">{{ row.display_name }}</div></template>
        </el-table-column>
        <el-table-column :label="t('adminUi.role')" width="110">
          <template #default="{ row }">{{ t('roles.' + row.role) }}</template>
        </el-table-column>
        <el-table-column :label="t('adminUi.worksFor')" min-width="150">
          <template #default="{ row }">
            <span v-if="row.enterprise_id">{{ $unitName(row.enterprise_id) }}</span>
            <span v-else-if="row.hotline_code || row.hotlines.length">{{ [row.hotline_code, ...row.hotlines].filter(Boolean).join(' · ') }}</span>
            <span v-else class="muted">{{ t('adminUi.everyHotline') }}</span>
          </template>
        </el-table-column>
        <el-table-column :label="t('adminUi.state')" width="130">
          <template #default="{ row }">
            <el-tag disable-transitions size="small" :type="row.active ? 'success' : 'info'">
              {{ row.active ? t('adminUi.active') : t('adminUi.disabled') }}</el-tag>
            <el-tag v-if="row.locked" disable-transitions size="small" type="danger" data-test="user-locked">{{ t('adminUi.locked') }}</el-tag>
            <div class="tiny muted">{{ t('adminUi.sessions', { n: row.open_sessions }) }}</div>
          </template>
        </el-table-column>
        <el-table-column :label="t('adminUi.lastLogin')" width="140">
          <template #default="{ row }">{{ row.last_login_at ? $fmtTime(row.last_login_at, true) : t('app.none') }}</template>
        </el-table-column>
        <el-table-column :label="t('app.actions')" min-width="260">
          <template #default="{ row }">
            <div class="admin-actions">
              <el-button size="small" link type="primary" data-test="user-edit" @click="openEdit(row)">{{ t('app.edit') }}</el-button>
              <el-button size="small" link type="primary" data-test="user-password" @click="openPassword(row)">{{ t('adminUi.actions.password') }}</el-button>
              <el-button v-if="row.locked || row.failed_logins" size="small" link type="warning" data-test="user-unlock"
                         @click="act(row, 'unlock', 'adminUi.confirmUnlock')">{{ t('adminUi.actions.unlock') }}</el-button>
              <el-button v-if="row.open_sessions" size="small" link type="warning" data-test="user-logout"
                         @click="act(row, 'logout', 'adminUi.confirmLogout')">{{ t('adminUi.actions.logout') }}</el-button>
              <el-button v-if="row.active" size="small" link type="danger" data-test="user-disable"
                         @click="act(row, 'disable', 'adminUi.confirmDisable')">{{ t('adminUi.actions.disable') }}</el-button>
              <el-button v-else size="small" link type="success" data-test="user-enable"
                         @click="act(row, 'enable', 'adminUi.confirmEnable')">{{ t('adminUi.actions.enable') }}</el-button>
              <el-button size="small" link @click="openHistory(row)">{{ t('adminUi.history') }}</el-button>
            </div>
          </template>
        </el-table-column>
      </el-table>
    </el-card>

    <el-dialog v-model="dialog.open" :title="dialog.editing ? t('adminUi.editUser') : t('adminUi.newUser')"
               width="min(560px, 94vw)" data-test="user-dialog">
      <el-form label-position="top" @submit.prevent="save">
        <el-form-item :label="t('adminUi.username')" :error="dialog.errors.username">
          <el-input v-model="form.username" :disabled="!!dialog.editing" name="new-username" autocomplete="off" />
        </el-form-item>
        <el-form-item :label="t('adminUi.displayName')" :error="dialog.errors.display_name">
          <el-input v-model="form.display_name" name="display-name" />
        </el-form-item>
        <el-form-item :label="t('adminUi.role')" :error="dialog.errors.role">
          <el-select v-model="form.role" data-test="user-role" class="full">
            <el-option v-for="r in ROLES" :key="r" :value="r" :label="t('roles.' + r)" />
          </el-select>
        </el-form-item>
        <el-form-item v-if="isUnitRole(form.role)" :label="t('adminUi.enterprise')" :error="dialog.errors.enterprise">
          <el-select v-model="form.enterprise_code" filterable data-test="user-enterprise" class="full">
            <el-option v-for="e in units" :key="e.code" :value="e.code" :label="nameOf(e)" />
          </el-select>
        </el-form-item>
        <template v-else>
          <el-form-item :label="t('adminUi.ownHotline')" :error="dialog.errors.hotline">
            <el-select v-model="form.hotline_code" clearable class="full" data-test="user-hotline">
              <el-option v-for="h in refs.hotlines" :key="h.code" :value="h.code" :label="h.code + ' ' + nameOf(h)" />
            </el-select>
          </el-form-item>
          <el-form-item :label="t('adminUi.moreHotlines')" :error="dialog.errors.hotlines">
            <el-select v-model="form.hotlines" multiple clearable class="full">
              <el-option v-for="h in refs.hotlines" :key="h.code" :value="h.code" :label="h.code + ' ' + nameOf(h)" />
            </el-select>
            <div class="tiny muted">{{ t('adminUi.hotlinesHint') }}</div>
          </el-form-item>
        </template>
        <el-form-item v-if="!dialog.editing" :label="t('adminUi.password')" :error="dialog.errors.password">
          <el-radio-group v-model="form.passwordMode">
            <el-radio value="generate">{{ t('adminUi.generate') }}</el-radio>
            <el-radio value="set" data-test="user-password-set">{{ t('adminUi.setPassword') }}</el-radio>
          </el-radio-group>
          <el-input v-if="form.passwordMode === 'set'" v-model="form.password" type="password" show-password
                    name="new-password" autocomplete="new-password" :placeholder="t('adminUi.passwordRule')" />
        </el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="dialog.open = false">{{ t('app.cancel') }}</el-button>
        <el-button type="primary" :loading="dialog.saving" data-test="user-save" @click="save">{{ t('app.save') }}</el-button>
      </template>
    </el-dialog>

    <el-dialog :model-value="!!created" :title="t('adminUi.userCreated')" width="min(520px, 94vw)"
               data-test="user-created" @close="created = null">
      <template v-if="created">
        <p>{{ t('adminUi.createdFor', { name: created.user.username }) }}</p>
        <ShownOnce :value="created.password" />
      </template>
      <template #footer><el-button type="primary" @click="created = null">{{ t('adminUi.noted') }}</el-button></template>
    </el-dialog>

    <el-dialog v-model="password.open" :title="t('adminUi.passwordFor', { name: password.user?.display_name })"
               width="min(520px, 94vw)" data-test="password-dialog">
      <template v-if="password.shown"><ShownOnce :value="password.shown" /></template>
      <template v-else>
        <p class="small muted">{{ t('adminUi.passwordEndsSessions') }}</p>
        <el-radio-group v-model="password.mode">
          <el-radio value="generate">{{ t('adminUi.generate') }}</el-radio>
          <el-radio value="set" data-test="password-set">{{ t('adminUi.setPassword') }}</el-radio>
        </el-radio-group>
        <el-form-item v-if="password.mode === 'set'" :error="password.errors.password">
          <el-input v-model="password.value" type="password" show-password name="reset-password"
                    autocomplete="new-password" :placeholder="t('adminUi.passwordRule')" />
        </el-form-item>
      </template>
      <template #footer>
        <el-button v-if="password.shown" type="primary" @click="password.open = false">{{ t('adminUi.noted') }}</el-button>
        <template v-else>
          <el-button @click="password.open = false">{{ t('app.cancel') }}</el-button>
          <el-button type="primary" data-test="password-save" @click="resetPassword">{{ t('adminUi.actions.password') }}</el-button>
        </template>
      </template>
    </el-dialog>

    <el-drawer v-model="history.open" :title="t('adminUi.historyOf', { name: history.user?.username })" size="min(760px, 100%)">
      <ChangeList v-if="history.open" entity="user" :thing-key="String(history.user.id)" />
    </el-drawer>
  </div>`,
};
