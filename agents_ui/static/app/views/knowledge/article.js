// One article as a reader sees it: the version shown (the published one unless another is
// asked for), its scripted answer (答复口径) first, the guide's fields, where it applies,
// its validity, the history of versions, and what a version other than the published one
// changes. Writers submit their drafts from here, reviewers approve or reject.

import { computed, onMounted, reactive, ref, watch } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { areaName, errorText, go, itemName } from "../../store.js";
import { VersionDiff } from "./diff.js";
import { isReviewer, mayEdit, ownerName, person, stateType } from "./common.js";

// The fields a version may carry in English too (its `en`).
const TRANSLATED = ["title", "body", "script", "documents", "fees", "time_limit", "steps"];

export default {
  components: { VersionDiff },
  props: {
    id: { type: Number, required: true },
    version: { type: Number, default: null }, // null: the default the server chooses
  },
  // changed: the article's state moved (submitted, reviewed, archived).
  emits: ["changed"],
  setup(props, { emit }) {
    const { t, locale } = useI18n();
    const article = ref(null);
    const published = ref(null); // the published version, when another one is shown
    const error = ref("");
    const lang = ref(locale.value === "en" ? "en" : "zh");
    const review = reactive({ note: "", busy: false });

    async function load() {
      try {
        const query = props.version ? { version: props.version } : undefined;
        const found = await api.get(`/api/v1/knowledge/articles/${props.id}`, query);
        const other = found.published_version && found.published_version !== found.version.version;
        published.value = other
          ? (await api.get(`/api/v1/knowledge/articles/${props.id}`, { version: found.published_version })).version
          : null;
        article.value = found;
        error.value = "";
      } catch (e) {
        article.value = null;
        error.value = errorText(e);
      }
    }
    onMounted(load);
    watch(() => [props.id, props.version], load);
    // The console's language switch chooses the article's too (its own switch overrides).
    watch(locale, (value) => (lang.value = value === "en" ? "en" : "zh"));

    const v = computed(() => article.value?.version);
    const hasEnglish = computed(() => TRANSLATED.some((f) => {
      const value = v.value?.en?.[f];
      return Array.isArray(value) ? value.length : !!value;
    }));
    // A field in the language chosen, the Chinese where the English lacks it.
    const shown = (field) => {
      const english = lang.value === "en" && hasEnglish.value ? v.value.en?.[field] : null;
      const value = Array.isArray(english) ? (english.length ? english : null) : english;
      return value || v.value[field];
    };
    const editable = computed(() => article.value && mayEdit(article.value.owner));
    const reviewable = computed(() => isReviewer() && v.value?.state === "submitted");
    const guide = computed(() => {
      if (!v.value) return false;
      return ["documents", "steps"].some((f) => (shown(f) || []).length) || !!shown("fees") || !!shown("time_limit");
    });

    async function act(path, body, done) {
      review.busy = true;
      try {
        await api.post(`/api/v1/knowledge/articles/${props.id}${path}`, body);
        ElMessage.success(done);
        review.note = "";
        emit("changed");
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        review.busy = false;
      }
    }
    const submit = () => act(`/versions/${v.value.version}/submit`, {}, t("kbUi.submitted"));
    const approve = () => {
      const note = review.note.trim();
      return act(`/versions/${v.value.version}/approve`, note ? { note } : {}, t("kbUi.approved"));
    };
    function reject() {
      if (!review.note.trim()) {
        ElMessage.warning(t("kbUi.rejectNeedsNote"));
        return;
      }
      return act(`/versions/${v.value.version}/reject`, { note: review.note.trim() }, t("kbUi.rejected"));
    }
    async function archive() {
      let note;
      try {
        ({ value: note } = await ElMessageBox.prompt(t("kbUi.archiveHint"), t("kbUi.archive"), {
          confirmButtonText: t("kbUi.archive"),
          cancelButtonText: t("app.cancel"),
          inputPlaceholder: t("kbUi.note"),
        }));
      } catch {
        return; // cancelled
      }
      await act("/archive", note ? { note } : {}, t("kbUi.archived"));
    }
    async function copyScript() {
      try {
        await navigator.clipboard.writeText(shown("script"));
        ElMessage.success(t("kbUi.copied"));
      } catch {
        ElMessage.warning(t("kbUi.copyRefused"));
      }
    }
    const openVersion = (row) => go(`/knowledge/${props.id}?version=${row.version}`);
    const edit = () => go(`/knowledge/${props.id}/edit`);

    return {
      t, article, published, error, v, lang, hasEnglish, shown, editable, reviewable, guide, review,
      submit, approve, reject, archive, copyScript, openVersion, edit, person, stateType, itemName, areaName,
      ownerName: (owner) => ownerName(owner, t), isReviewer,
    };
  },
  template: `
  <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" />
  <article v-if="article" class="kb-article" :data-article="article.id" :data-version="v.version" data-test="kb-article">
    <header class="kb-article-head">
      <div class="kb-article-title">
        <h2 data-test="kb-title">{{ shown('title') }}</h2>
        <div class="kb-tags">
          <el-tag disable-transitions size="small" effect="plain">{{ t('kbUi.kinds.' + article.kind) }}</el-tag>
          <el-tag disable-transitions size="small" :type="stateType(v.state)" data-test="kb-state">v{{ v.version }} · {{ t('kbUi.states.' + v.state) }}</el-tag>
          <el-tag v-if="v.demo" disable-transitions size="small" type="warning" effect="dark" data-test="kb-demo">{{ t('kbUi.demo') }}</el-tag>
          <el-tag v-if="article.review_overdue" disable-transitions size="small" type="danger" data-test="kb-overdue">{{ t('kbUi.reviewOverdue') }}</el-tag>
          <el-tag v-if="article.archived_at" disable-transitions size="small" type="info">{{ t('kbUi.archivedTag') }}</el-tag>
          <span class="muted small">{{ ownerName(article.owner) }}</span>
          <span v-if="article.code" class="muted small mono">{{ article.code }}</span>
        </div>
      </div>
      <div class="kb-article-tools">
        <el-radio-group v-if="hasEnglish" v-model="lang" size="small" data-test="kb-lang">
          <el-radio-button value="zh">中文</el-radio-button>
          <el-radio-button value="en">English</el-radio-button>
        </el-radio-group>
        <el-button v-if="editable && !article.archived_at" size="small" data-test="kb-edit" @click="edit">{{ t('app.edit') }}</el-button>
        <el-button v-if="editable && v.state === 'draft'" size="small" type="primary" :loading="review.busy"
                   data-test="kb-submit" @click="submit">{{ t('kbUi.submitForReview') }}</el-button>
        <el-button v-if="isReviewer() && article.published_version && !article.archived_at" size="small" type="danger" plain
                   data-test="kb-archive" @click="archive">{{ t('kbUi.archive') }}</el-button>
      </div>
    </header>

    <el-alert v-if="v.state === 'rejected'" type="error" show-icon :closable="false" class="kb-note" data-test="kb-rejected-note"
              :title="t('kbUi.rejectedBy', { who: person(v.reviewed_by), time: $fmtTime(v.reviewed_at, true) })"
              :description="v.review_note" />
    <el-alert v-else-if="v.state !== 'published' && article.published_version" type="info" :closable="false" class="kb-note"
              :title="t('kbUi.notThePublished', { version: article.published_version })" />

    <section v-if="reviewable" class="kb-review-box" data-test="kb-review-box">
      <h4>{{ t('kbUi.reviewThis') }}</h4>
      <el-input v-model="review.note" type="textarea" :rows="2" maxlength="2000" :placeholder="t('kbUi.reviewNoteHint')" data-test="kb-review-note" />
      <div class="kb-review-actions">
        <el-button type="success" :loading="review.busy" data-test="kb-approve" @click="approve">{{ t('kbUi.approve') }}</el-button>
        <el-button type="danger" plain :loading="review.busy" data-test="kb-reject" @click="reject">{{ t('kbUi.reject') }}</el-button>
      </div>
    </section>

    <section class="kb-script" data-test="kb-script">
      <div class="kb-script-head"><span>{{ t('kbUi.script') }}</span>
        <el-button v-if="shown('script')" size="small" text type="primary" @click="copyScript">{{ t('kbUi.copy') }}</el-button></div>
      <div class="pre">{{ shown('script') || t('kbUi.noScript') }}</div>
    </section>

    <section v-if="shown('body')" class="kb-body pre" data-test="kb-body">{{ shown('body') }}</section>

    <section v-if="guide" class="kb-guide" data-test="kb-guide">
      <div v-if="(shown('documents') || []).length"><h4>{{ t('kbUi.fields.documents') }}</h4>
        <ul><li v-for="(d, i) in shown('documents')" :key="i">{{ d }}</li></ul></div>
      <div v-if="shown('fees')"><h4>{{ t('kbUi.fields.fees') }}</h4><div class="pre">{{ shown('fees') }}</div></div>
      <div v-if="shown('time_limit')"><h4>{{ t('kbUi.fields.time_limit') }}</h4><div class="pre">{{ shown('time_limit') }}</div></div>
      <div v-if="(shown('steps') || []).length" class="kb-steps"><h4>{{ t('kbUi.fields.steps') }}</h4>
        <ol><li v-for="(s, i) in shown('steps')" :key="i">{{ s }}</li></ol></div>
    </section>

    <el-descriptions :column="2" border size="small" class="kb-facts">
      <el-descriptions-item :label="t('kbUi.fields.service_items')" :span="2">
        <span v-if="!v.service_items.length" class="muted">{{ t('kbUi.anyItem') }}</span>
        <a v-for="code in v.service_items" :key="code" class="kb-link" :href="'#/knowledge?service_item=' + code">{{ itemName(code) }}</a>
      </el-descriptions-item>
      <el-descriptions-item :label="t('kbUi.fields.hotlines')">{{ v.hotlines.length ? v.hotlines.join(' · ') : t('kbUi.allHotlines') }}</el-descriptions-item>
      <el-descriptions-item :label="t('kbUi.fields.areas')">{{ v.areas.length ? v.areas.map(areaName).join('、') : t('kbUi.everywhere') }}</el-descriptions-item>
      <el-descriptions-item :label="t('kbUi.validity')">
        <span data-test="kb-validity">{{ v.valid_from || t('kbUi.always') }} – {{ v.valid_until || t('kbUi.noEnd') }}</span></el-descriptions-item>
      <el-descriptions-item :label="t('kbUi.fields.review_due')">
        <span :class="{ bad: article.review_overdue }">{{ v.review_due || '—' }}</span></el-descriptions-item>
      <el-descriptions-item :label="t('kbUi.answers')"><span data-test="kb-answers">{{ article.answers ?? 0 }}</span></el-descriptions-item>
      <el-descriptions-item :label="t('kbUi.publishedAt')">{{ $fmtTime(v.published_at, true) || '—' }}</el-descriptions-item>
    </el-descriptions>

    <section v-if="published" class="kb-against" data-test="kb-against">
      <h3>{{ t('kbUi.againstPublished', { version: published.version }) }}</h3>
      <VersionDiff :before="published" :after="v" />
    </section>

    <section class="kb-history">
      <h3>{{ t('kbUi.history') }}</h3>
      <el-table :data="article.versions" size="small" data-test="kb-versions" row-class-name="kb-version-row"
                @row-click="openVersion">
        <el-table-column :label="t('kbUi.version')" width="64"><template #default="{ row }">
          <a :href="'#/knowledge/' + article.id + '?version=' + row.version" :class="{ strong: row.version === v.version }"
             :data-version="row.version">v{{ row.version }}</a></template></el-table-column>
        <el-table-column :label="t('kbUi.state')" width="112"><template #default="{ row }">
          <el-tag disable-transitions size="small" :type="stateType(row.state)">{{ t('kbUi.states.' + row.state) }}</el-tag></template></el-table-column>
        <el-table-column :label="t('kbUi.writtenBy')" min-width="120"><template #default="{ row }">
          {{ person(row.written_by) }}<div class="muted tiny">{{ $fmtTime(row.written_at, true) }}</div></template></el-table-column>
        <el-table-column :label="t('kbUi.fields.change_note')" min-width="140"><template #default="{ row }">
          <span class="small">{{ row.change_note || '—' }}</span></template></el-table-column>
        <el-table-column :label="t('kbUi.reviewedBy')" min-width="150"><template #default="{ row }">
          <template v-if="row.reviewed_by">{{ person(row.reviewed_by) }}<div class="muted tiny">{{ $fmtTime(row.reviewed_at, true) }}</div>
            <div v-if="row.review_note" class="small kb-review-note" :class="{ bad: row.state === 'rejected' }">{{ row.review_note }}</div></template>
          <span v-else class="muted">—</span></template></el-table-column>
      </el-table>
    </section>
  </article>`,
};
