"""The console's two languages: which one a request gets, and the strings.

Order of preference: the language switch (a cookie), the signed-in user's saved
choice, the console default an admin set, then the browser's Accept-Language.
"""

from __future__ import annotations

from fastapi import Request

LANGS = ("zh", "en")
COOKIE = "qunyun_lang"


def from_accept(header: str | None) -> str:
    """The first of zh/en the browser prefers (zh-CN, zh-TW, en-US… all count)."""
    best, best_q = "en", -1.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        base = tag.strip().lower()[:2]
        if base in LANGS and q > best_q:
            best, best_q = base, q
    return best


def lang_of(request: Request) -> str:
    chosen = getattr(request.state, "lang", None)
    if chosen in LANGS:
        return str(chosen)
    cookie = request.cookies.get(COOKIE)
    if cookie in LANGS:
        return str(cookie)
    return from_accept(request.headers.get("accept-language"))


def negotiate(request: Request, user_lang: str | None, default: str) -> str:
    cookie = request.cookies.get(COOKIE)
    if cookie in LANGS:
        return str(cookie)
    if user_lang in LANGS:
        return str(user_lang)
    if default in LANGS:
        return default
    return from_accept(request.headers.get("accept-language"))


def translate(lang: str, key: str, **kw: object) -> str:
    table = STRINGS.get(key)
    if table is None:
        return key
    text = table[0] if lang == "zh" else table[1]
    return text.format(**kw) if kw else text


# key: (中文, English)
STRINGS: dict[str, tuple[str, str]] = {
    "app": ("群运", "qunyun"),
    "tagline": ("多群社群运营控制台", "Run many chat groups as one community"),
    "nav.overview": ("总览", "Overview"),
    "nav.groups": ("群组", "Groups"),
    "nav.members": ("成员", "Members"),
    "nav.imports": ("导入", "Imports"),
    "nav.reports": ("报告", "Reports"),
    "nav.settings": ("设置", "Settings"),
    "nav.signout": ("退出登录", "Sign out"),
    "login.title": ("登录", "Sign in"),
    "login.name": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.failed": ("用户名或密码不正确", "Wrong user name or password"),
    "login.hint": (
        "首次启动时，qunyun serve 会在终端打印所有者账号的一次性密码。",
        "On first start, qunyun serve prints the owner's one-time password in its terminal.",
    ),
    "notice.one_time": (
        "你正在使用首次启动时打印的一次性密码，请设置自己的密码。",
        "You signed in with the one-time password printed at first start: set your own.",
    ),
    "range.month": ("月份", "Month"),
    "range.last30": ("最近 30 天", "Last 30 days"),
    "range.apply": ("查看", "Show"),
    "groups.filter": ("筛选", "Filter"),
    "range.to": ("至", "to"),
    "overview.title": ("社群总览", "Community overview"),
    "overview.groups": ("群", "Groups"),
    "overview.members": ("成员", "Members"),
    "overview.net": ("净增长", "Net growth"),
    "overview.joins": ("入群", "Joins"),
    "overview.leaves": ("退群", "Leaves"),
    "overview.messages": ("消息", "Messages"),
    "overview.effective": ("有效消息", "Effective messages"),
    "overview.active": ("活跃成员", "Active members"),
    "overview.daily": ("每日动态", "Day by day"),
    "overview.dying": ("衰退预警", "Fading groups"),
    "overview.dying_none": ("没有群出现明显衰退。", "No group is fading."),
    "overview.dying_text": (
        "近 4 周有效消息较之前 8 周下降一半以上的群：",
        "Groups whose effective messages in the last 4 weeks fell by half or more:",
    ),
    "overview.top_groups": ("最活跃的群", "Most active groups"),
    "empty.title": ("还没有数据", "No data yet"),
    "empty.text": (
        "导入一份聊天记录导出，或加载演示社群，几秒钟就能看到第一份分析。",
        "Import a chat-history export, or load the demo community, and see your first "
        "insights in seconds.",
    ),
    "empty.import": ("导入聊天记录", "Import an export"),
    "empty.demo": ("加载演示社群", "Load the demo community"),
    "empty.bot": (
        "连接机器人（Telegram、Matrix、企业微信）将在后续版本提供。",
        "Connecting a bot (Telegram, Matrix, WeCom) comes in a later version.",
    ),
    "empty.no_groups_assigned": (
        "还没有分配给你的群。请联系管理员。",
        "No groups are assigned to you yet. Ask an admin.",
    ),
    "groups.title": ("群组", "Groups"),
    "groups.search": ("搜索群名或 ID", "Search title or id"),
    "groups.platform": ("平台", "Platform"),
    "groups.all_platforms": ("全部平台", "All platforms"),
    "groups.only_dying": ("只看衰退的群", "Only fading groups"),
    "groups.title_col": ("群", "Group"),
    "groups.health": ("健康分", "Health"),
    "groups.active_share": ("活跃占比", "Active share"),
    "groups.change": ("4 周变化", "4-week change"),
    "groups.none": ("没有符合条件的群。", "No group matches."),
    "group.report": ("生成月报", "Monthly report"),
    "group.keywords": ("热词", "Keywords"),
    "group.loading": ("加载中…", "Loading…"),
    "members.title": ("成员", "Members"),
    "members.search": ("搜索昵称或账号", "Search name or account"),
    "members.all_groups": ("全部群", "All groups"),
    "members.name": ("成员", "Member"),
    "members.identities": ("账号", "Accounts"),
    "members.groups": ("所在群", "Groups"),
    "members.messages": ("消息", "Messages"),
    "members.last_seen": ("最后出现", "Last seen"),
    "members.first_seen": ("首次出现", "First seen"),
    "members.none": ("没有符合条件的成员。", "No member matches."),
    "members.sort": ("排序", "Sort"),
    "members.sort_recent": ("最近出现", "Recently seen"),
    "members.sort_messages": ("消息最多", "Most messages"),
    "members.sort_name": ("名称", "Name"),
    "member.timeline": ("动态", "Timeline"),
    "member.joined": ("入群", "Joined"),
    "member.left": ("离开", "Left"),
    "member.how": ("入群方式", "How they joined"),
    "member.names": ("曾用名", "Names used"),
    "member.older": ("更早", "Older"),
    "member.bot": ("机器人", "bot"),
    "method.invite_link": ("邀请链接", "invite link"),
    "method.invited_by": ("成员邀请", "invited"),
    "method.qr_code": ("扫码", "QR code"),
    "method.channel_code": ("渠道码", "channel code"),
    "method.approved": ("审批通过", "approved"),
    "method.community": ("从社群加入", "from the community"),
    "method.unknown": ("未知", "unknown"),
    "kind.join_other": ("邀请入群", "added a member"),
    "kind.kick_other": ("移出成员", "removed a member"),
    "kind.ban_other": ("封禁成员", "banned a member"),
    "kind.mute_other": ("禁言成员", "muted a member"),
    "kind.unban": ("解封", "unbanned"),
    "kind.message": ("发言", "message"),
    "kind.join": ("入群", "joined"),
    "kind.leave": ("退群", "left"),
    "kind.kick": ("被移出", "removed"),
    "kind.ban": ("被封禁", "banned"),
    "kind.edit": ("编辑", "edit"),
    "kind.delete": ("撤回", "deleted"),
    "kind.reaction": ("表情回应", "reaction"),
    "kind.pin": ("置顶", "pin"),
    "kind.title_change": ("改群名", "renamed group"),
    "kind.service": ("系统消息", "service"),
    "kind.mute": ("禁言", "muted"),
    "imports.title": ("导入聊天记录", "Import chat history"),
    "imports.file": (
        "导出文件（.json / .txt / .csv / .zip）",
        "Export file (.json / .txt / .csv / .zip)",
    ),
    "imports.format": ("格式", "Format"),
    "imports.detect": ("自动识别", "Detect automatically"),
    "imports.tz": (
        "时区（导出只有本地时间时使用）",
        "Time zone (for exports with local times only)",
    ),
    "imports.group": (
        "群名（WhatsApp、IRC 导出不含群名时）",
        "Group name (WhatsApp and IRC exports carry none)",
    ),
    "imports.submit": ("上传并导入", "Upload and import"),
    "imports.history": ("导入记录", "Import history"),
    "imports.none": ("还没有导入过。", "Nothing imported yet."),
    "imports.status.queued": ("排队中", "queued"),
    "imports.status.running": ("导入中", "running"),
    "imports.status.done": ("完成", "done"),
    "imports.status.failed": ("失败", "failed"),
    "imports.read": ("读取", "read"),
    "imports.new": ("新增", "new"),
    "imports.duplicate": ("已存在", "already present"),
    "imports.rejected": ("拒绝", "rejected"),
    "imports.skipped": ("跳过", "skipped"),
    "imports.errors": ("问题记录", "Problems"),
    "imports.where": ("位置", "Where"),
    "imports.problem": ("问题", "Problem"),
    "imports.progress": ("进度", "Progress"),
    "imports.by": ("操作人", "By"),
    "imports.when": ("时间", "When"),
    "imports.file_col": ("文件", "File"),
    "imports.again": ("再导入一个", "Import another"),
    "imports.view_groups": ("查看群组", "See the groups"),
    "imports.demo": (
        "或者加载演示社群（20 个群，约 30 万条事件）",
        "Or load the demo community (20 groups, ~300k events)",
    ),
    "imports.demo_button": ("加载演示社群", "Load demo community"),
    "reports.title": ("社群月报", "Monthly report"),
    "reports.text": (
        "生成某个群或全部群的月报：HTML 文件可离线打开并转发，PDF 便于打印。",
        "Generate the monthly report of one group or all: the HTML file opens offline and "
        "can be forwarded; the PDF prints.",
    ),
    "reports.group": ("群", "Group"),
    "reports.all": ("全部群", "All groups"),
    "reports.lang": ("语言", "Language"),
    "reports.format": ("格式", "Format"),
    "reports.generate": ("生成并下载", "Generate and download"),
    "settings.title": ("设置", "Settings"),
    "settings.users": ("用户与角色", "Users and roles"),
    "settings.tokens": ("API 令牌", "API tokens"),
    "settings.prefs": ("默认设置", "Defaults"),
    "settings.audit": ("审计日志", "Audit log"),
    "settings.account": ("我的账号", "My account"),
    "settings.name": ("用户名", "Name"),
    "settings.role": ("角色", "Role"),
    "settings.groups": ("可见群", "Groups"),
    "settings.all": ("全部", "all"),
    "settings.create_user": ("添加用户", "Add user"),
    "settings.create": ("创建", "Create"),
    "settings.delete": ("删除", "Delete"),
    "settings.disable": ("停用", "Disable"),
    "settings.enable": ("启用", "Enable"),
    "settings.disabled": ("已停用", "disabled"),
    "settings.group_ids": (
        "群 ID（逗号分隔，留空 = 全部）",
        "Group ids (comma-separated; empty = all)",
    ),
    "settings.new_password": ("初始密码（留空自动生成）", "Password (empty = generate one)"),
    "settings.created_password": (
        "用户 {name} 的密码（只显示这一次）：",
        "Password of {name} (shown only once):",
    ),
    "settings.token_name": ("令牌名称", "Token name"),
    "settings.create_token": ("创建令牌", "Create token"),
    "settings.token_once": (
        "新令牌（只显示这一次，请立即保存）：",
        "New token (shown only once, copy it now):",
    ),
    "settings.revoke": ("吊销", "Revoke"),
    "settings.revoked": ("已吊销", "revoked"),
    "settings.last_used": ("最后使用", "Last used"),
    "settings.created": ("创建时间", "Created"),
    "settings.never": ("从未", "never"),
    "settings.tz": ("默认时区", "Default time zone"),
    "settings.lang": ("默认语言", "Default language"),
    "settings.lang_auto": ("跟随浏览器", "From the browser"),
    "settings.save": ("保存", "Save"),
    "settings.saved": ("已保存", "Saved"),
    "settings.password": ("修改密码", "Change password"),
    "settings.old_password": ("当前密码", "Current password"),
    "settings.new_password2": ("新密码（至少 10 个字符）", "New password (10+ characters)"),
    "settings.at": ("时间", "When"),
    "settings.who": ("操作人", "Who"),
    "settings.action": ("操作", "Action"),
    "settings.target": ("对象", "Target"),
    "role.owner": ("所有者", "owner"),
    "role.admin": ("管理员", "admin"),
    "role.operator": ("运营", "operator"),
    "role.viewer": ("只读", "viewer"),
    "common.prev": ("上一页", "Previous"),
    "common.next": ("下一页", "Next"),
    "common.of": ("共 {n} 条", "{n} in all"),
    "common.error": ("出错了", "Something went wrong"),
    "common.back": ("返回", "Back"),
    "common.none": ("—", "—"),
    "lang.switch": ("English", "中文"),
}
