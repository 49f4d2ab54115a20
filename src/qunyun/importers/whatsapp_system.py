"""What a WhatsApp export line *means*: system notices and message bodies.

System lines carry no "Name:" part on Android (``X added Y``) and are written
in the phone's language. iOS instead attributes them to the group (or chat)
name and starts the text with a U+200E mark (``[…] My Group: ‎X added Y``).
Both end up in :func:`classify_system`, which turns the text into a small,
platform-neutral :class:`SystemAction`.

Message bodies carry placeholders instead of media (``<Media omitted>``,
``image omitted``, ``‎<attached: 00000012-PHOTO-….jpg>``, ``IMG-….jpg (file
attached)``) and markers for deletions and edits; :func:`classify_body` reads
them. Only the wordings listed here are recognised; anything else stays a text
message or a generic service event, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qunyun.events import JoinMethod, Kind, MsgType
from qunyun.importers.whatsapp_members import KnownName, split_members

_Q_OPEN = '"“„「«'
_Q_CLOSE = '"”“」»'
_QUOTED = rf"[{_Q_OPEN}](?P<title>.*)[{_Q_CLOSE}]"
_OLD_QUOTED = rf"[{_Q_OPEN}](?P<old>.*)[{_Q_CLOSE}]"


@dataclass(frozen=True, slots=True)
class SystemAction:
    """A system line, decoded. ``targets`` are the members an event is about."""

    kind: Kind
    service: str
    actor: str | None = None
    targets: tuple[str, ...] = ()
    method: JoinMethod | None = None
    title: str | None = None
    old: str | None = None


@dataclass(frozen=True, slots=True)
class _Rule:
    regex: re.Pattern[str]
    kind: Kind
    service: str
    method: JoinMethod | None = None
    many: bool = False  # the "t" group lists several members
    you: bool = False  # the actor is the exporting user, not written ("Añadiste a X")


def _r(
    pattern: str,
    kind: Kind,
    service: str,
    method: JoinMethod | None = None,
    many: bool = False,
    you: bool = False,
) -> _Rule:
    return _Rule(re.compile(pattern, re.IGNORECASE | re.DOTALL), kind, service, method, many, you)


_LINK = JoinMethod.INVITE_LINK
_BY = JoinMethod.INVITED_BY
_UNK = JoinMethod.UNKNOWN
_COMM = JoinMethod.COMMUNITY

#: Ordered: the first rule that matches the whole text wins, so specific
#: wordings come before general ones ("joined using…" before "joined").
_RULES: tuple[_Rule, ...] = (
    # ---- end-to-end notices (no actor)
    _r(
        r"^(?:Messages and calls are end-to-end encrypted|Messages to this (?:group|chat)"
        r"(?: and calls)? are now secured with end-to-end encryption|"
        r"(?:消息和通话|訊息與通話|你发送给自己的消息|您的消息).{0,6}端[到對对]端加密|"
        r"[^:：]{0,40}端[到對对]端的?加密|"
        r"Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt|"
        r"Los mensajes y las llamadas están cifrados de extremo a extremo|"
        r"As mensagens e (?:as )?(?:chamadas|ligações) (?:são protegidas com a )?"
        r"criptografia de ponta a ponta|"
        r"As mensagens e (?:as )?(?:chamadas|ligações) são protegidas com a criptografia|"
        r"Les messages et les appels sont chiffrés de bout en bout|"
        r"Сообщения и звонки защищены сквозным шифрованием|"
        r"Pesan dan panggilan terenkripsi secara end-to-end).*",
        Kind.SERVICE,
        "encryption_notice",
    ),
    # ---- English
    _r(
        r"^(?P<a>.+?) joined using (?:this|the|a) (?:group|community)(?:['’]s)? (?:invite )?link$",
        Kind.JOIN,
        "joined_by_link",
        _LINK,
    ),
    # Communities: a member of the community opened this group from it. Real
    # wordings: "X joined from the community", "You joined from the community";
    # also tolerated: "… joined this group from/via the community (announcements) "N"".
    _r(
        rf"^(?P<a>.+?) joined (?:this group |the group )?(?:from|via|through) (?:the |this |a )?"
        rf"community(?: announcements)?(?: group)?(?: {_QUOTED})?$",
        Kind.JOIN,
        "joined_from_community",
        _COMM,
    ),
    # The member accepted an invite sent to them privately (when privacy settings
    # let the admin not add them directly): the inviter brought them in.
    _r(r"^(?P<t>.+?) joined using your invite$", Kind.JOIN, "joined_by_invite", _BY, you=True),
    _r(
        r"^(?P<t>.+?) joined using (?P<a>.+?)['’]s? invite$",
        Kind.JOIN,
        "joined_by_invite",
        _BY,
    ),
    _r(r"^(?P<a>.+?) joined(?: (?:this|the) group)?$", Kind.JOIN, "joined", _UNK),
    _r(r"^(?P<t>You) were added$", Kind.JOIN, "added", _BY),
    _r(r"^(?P<t>.+?) was added$", Kind.JOIN, "added", _BY),
    # Community announcement groups list the groups added to / removed from the
    # community: "X added the group "Y"", "X added this group to the community "C"".
    _r(
        r"^(?P<a>.+?) (?:added|removed) (?:the|this) group\b.*$",
        Kind.SERVICE,
        "community_group_changed",
    ),
    _r(r"^(?P<a>.+?) added (?P<t>.+)$", Kind.JOIN, "added", _BY, many=True),
    _r(r"^(?P<t>You) were removed$", Kind.KICK, "removed"),
    _r(r"^(?P<a>.+?) removed (?P<t>.+)$", Kind.KICK, "removed", many=True),
    _r(r"^(?P<a>.+?) left$", Kind.LEAVE, "left"),
    _r(rf"^(?P<a>.+?) created (?:the )?group {_QUOTED}$", Kind.SERVICE, "group_created"),
    _r(r"^(?P<a>.+?) created (?:this|the) group$", Kind.SERVICE, "group_created"),
    _r(
        rf"^(?P<a>.+?) changed the (?:subject|group name) from {_OLD_QUOTED} to {_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        rf"^(?P<a>.+?) changed the (?:subject|group name) to {_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        r"^(?P<a>.+?) (?:changed|deleted) (?:this group's|the group) icon$",
        Kind.SERVICE,
        "icon_changed",
    ),
    _r(
        r"^(?P<a>.+?) (?:changed|deleted) the group description.*$",
        Kind.SERVICE,
        "description_changed",
    ),
    _r(
        r"^(?P<a>.+?) changed (?:this group's|the group) settings.*$",
        Kind.SERVICE,
        "settings_changed",
    ),
    _r(r"^(?P<a>.+?) changed their phone number.*$", Kind.SERVICE, "number_changed"),
    _r(r"^(?P<a>.+?) changed to (?P<new>\+[\d\s().\-]+)$", Kind.RENAME, "number_changed"),
    _r(r"^(?P<a>.+?) pinned a message$", Kind.PIN, "pinned"),
    _r(r"^(?P<a>.+?) (?:is|are|['’]re) now an admin$", Kind.SERVICE, "admin_granted"),
    _r(
        r"^(?P<a>.+?) turned (?:on|off) disappearing messages.*$",
        Kind.SERVICE,
        "disappearing_messages",
    ),
    # ---- security code notices (no member change); every language
    _r(
        r"^(?:Your security code with (?P<a>.+?) changed|"
        r"Die Sicherheitsnummer von (?P<a2>.+?) hat sich geändert|"
        r"El código de seguridad de (?P<a3>.+?) cambió|"
        r"O código de segurança de (?P<a4>.+?) mudou|"
        r"Le code de sécurité de (?P<a5>.+?) a changé|"
        r"Код безопасности (?:пользователя )?(?P<a6>.+?) изменился|"
        r"Kode keamanan (?P<a7>.+?) berubah)\b.*",
        Kind.SERVICE,
        "security_code_changed",
    ),
    _r(r"^(?P<a>.+?)['’]s security code changed.*$", Kind.SERVICE, "security_code_changed"),
    _r(
        r"^(?P<a>.+?)\s*的安全(?:编码|編碼|码|碼)已(?:更改|變更).*$",
        Kind.SERVICE,
        "security_code_changed",
    ),
    _r(r"^(?P<a>.+?) requested to join$", Kind.SERVICE, "join_requested"),
    # ⚠ An approval is not counted as a join: whether WhatsApp also writes the
    # member's own join line after it is not known, and counting both would count
    # one member twice.
    _r(
        r"^(?P<a>.+?) approved (?P<t>.+?)(?:['’]s?)? (?:request to join|join request)$",
        Kind.SERVICE,
        "join_approved",
    ),
    # ---- Chinese (simplified and traditional); spacing around names varies.
    # App strings: "%1$s 添加了 %2$s", "%s 退出了", "%s 被移除了", "您已被添加",
    # "%1$s更改群组主题为“%2$s”", "%1$s 已从 %2$s 更改为 %3$s" (zh-TW 新增/變更/為).
    _r(
        r"^(?P<a>.+?)\s*(?:通过|使用|透過|經由)(?:此|本|这个|這個)?(?:群[组組]的?)?邀[请請](?:链接|連結)"
        r"加入(?:了)?(?:此|本)?(?:群[组組])?$",
        Kind.JOIN,
        "joined_by_link",
        _LINK,
    ),
    _r(
        r"^(?P<a>.+?)\s*已?(?:从|從|通过|透過|经由|經由)(?:此|该|該|本)?(?:社群|社区|社區)(?:公告)?"
        r"\s*加入(?:了)?(?:此|本)?(?:群[组組聊])?$",
        Kind.JOIN,
        "joined_from_community",
        _COMM,
    ),
    _r(r"^(?P<a>.+?)\s*(?:已?加入(?:了)?(?:此|本)?群[组組]|已加入)$", Kind.JOIN, "joined", _UNK),
    _r(r"^(?P<t>你|您)(?:已被|被)(?:添加|新增|加到群[组組])(?:了)?$", Kind.JOIN, "added", _BY),
    # ⚠ tolerated, not seen in a WhatsApp export: "X将Y、Z和W加入群聊", "X邀请Y加入了群组"
    _r(
        r"^(?P<a>.+?)\s*(?:将|將|把)\s*(?P<t>.+?)\s*(?:添加到|添加至|加入|加到|新增到|新增至)(?:了)?"
        r"(?:此|本|该|該)?群(?:[组組聊])?$",
        Kind.JOIN,
        "added",
        _BY,
        many=True,
    ),
    _r(
        r"^(?P<a>.+?)\s*(?:邀请|邀請)(?:了)?\s*(?!链接|連結)(?P<t>.+?)\s*加入(?:了)?(?:此|本)?(?:群[组組聊])?$",
        Kind.JOIN,
        "added",
        _BY,
        many=True,
    ),
    _r(
        r"^(?P<a>.+?)\s*(?:已?添加了|已添加|已新增|新增了)\s*(?P<t>.+)$",
        Kind.JOIN,
        "added",
        _BY,
        many=True,
    ),
    _r(r"^(?P<t>你|您)(?:已被|被)移除(?:了)?$", Kind.KICK, "removed"),
    _r(r"^(?P<t>.+?)\s*(?:已被|被)移除(?:了)?$", Kind.KICK, "removed"),
    _r(r"^(?P<a>.+?)\s*(?:已?移除了|已移除)\s*(?P<t>.+)$", Kind.KICK, "removed", many=True),
    _r(
        r"^(?P<a>.+?)\s*(?:已退出(?:群[组組])?|退出了(?:群[组組])?|已?离开(?:了)?(?:群组)?|"
        r"已離開(?:群組)?)$",
        Kind.LEAVE,
        "left",
    ),
    _r(rf"^(?P<a>.+?)\s*(?:创建了群组|建立了群組)\s*{_QUOTED}$", Kind.SERVICE, "group_created"),
    _r(r"^(?P<a>.+?)\s*(?:创建了此群组|建立了此群組)$", Kind.SERVICE, "group_created"),
    _r(
        rf"^(?P<a>.+?)\s*(?:将|將)(?:群[组組]名[称稱]?|群[组組]主[题題]|主[题題])(?:从|從)\s*{_OLD_QUOTED}"
        rf"\s*(?:更改|變更)[为為]\s*{_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        rf"^(?P<a>.+?)\s*(?:(?:将|將|已將)?(?:群[组組]名[称稱]?|群[组組]主[题題])(?:更改|變更)[为為]|"
        rf"(?:更改|變更)(?:了)?(?:群[组組]名[称稱]?|群[组組]主[题題])[为為]|(?:更改|變更)[为為])\s*{_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        r"^(?P<a>.+?)\s*已(?:从|從)\s*.+?\s*(?:更改|變更)[为為]\s*(?P<new>\+[\d\s().\-]+)$",
        Kind.RENAME,
        "number_changed",
    ),
    _r(
        r"^(?P<a>.+?)\s*已(?:更改|變更)[为為]\s*(?P<new>\+[\d\s().\-]+)$",
        Kind.RENAME,
        "number_changed",
    ),
    _r(
        r"^(?P<a>.+?)\s*(?:更改了|已變更|变更了|變更了)(?:此|本)?群[组組]的?(?:图标|圖示|圖標|头像|頭像)$",
        Kind.SERVICE,
        "icon_changed",
    ),
    # ---- German. App strings: "%1$s hat %2$s hinzugefügt", "%s wurde hinzugefügt",
    # "%s hat die Gruppe verlassen", "%s wurde entfernt", "Du wurdest entfernt",
    # "%1$s hat den Betreff zu „%2$s“ geändert", "%1$s hat von %2$s zu %3$s gewechselt"
    _r(
        r"^(?P<a>.+?) (?:ist|bist) (?:der Gruppe |dieser Gruppe )?über den Einladungslink"
        r"(?: dieser Gruppe)? beigetreten$",
        Kind.JOIN,
        "joined_by_link",
        _LINK,
    ),
    _r(
        r"^(?P<a>.+?) (?:ist|bist) (?:der Gruppe |dieser Gruppe )?(?:über|aus|von) (?:der|die|dem)"
        r" Community(?:-Ankündigungen)? beigetreten$",
        Kind.JOIN,
        "joined_from_community",
        _COMM,
    ),
    _r(
        r"^(?P<a>.+?) (?:ist|bist) (?:der Gruppe |dieser Gruppe )?beigetreten$",
        Kind.JOIN,
        "joined",
        _UNK,
    ),
    _r(r"^(?P<t>Du) wurdest hinzugefügt$", Kind.JOIN, "added", _BY),
    _r(r"^(?P<t>.+?) wurde hinzugefügt$", Kind.JOIN, "added", _BY),
    _r(r"^(?P<t>Du) wurdest entfernt$", Kind.KICK, "removed"),
    _r(r"^(?P<t>.+?) wurde entfernt$", Kind.KICK, "removed"),
    _r(r"^(?P<a>.+?) (?:hat|hast) die Gruppe verlassen$", Kind.LEAVE, "left"),
    _r(rf"^(?P<a>.+?) (?:hat|hast) die Gruppe {_QUOTED} erstellt$", Kind.SERVICE, "group_created"),
    _r(
        rf"^(?P<a>.+?) (?:hat|hast) den (?:Betreff|Gruppennamen) von {_OLD_QUOTED}"
        rf" (?:zu|in) {_QUOTED}"
        r" geändert$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        rf"^(?P<a>.+?) (?:hat|hast) den (?:Betreff|Gruppennamen) (?:zu|in) {_QUOTED} geändert$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        r"^(?P<a>.+?) hat (?:von .+? )?zu (?P<new>\+[\d\s().\-]+) gewechselt$",
        Kind.RENAME,
        "number_changed",
    ),
    _r(r"^(?P<a>.+?) (?:hat|hast) (?P<t>.+) hinzugefügt$", Kind.JOIN, "added", _BY, many=True),
    _r(r"^(?P<a>.+?) (?:hat|hast) (?P<t>.+) entfernt$", Kind.KICK, "removed", many=True),
    _r(
        r"^(?P<a>.+?) (?:hat|hast) (?:das Gruppenbild|den Gruppenbetreff|die Gruppenbeschreibung)"
        r" (?:geändert|gelöscht)$",
        Kind.SERVICE,
        "group_info_changed",
    ),
    # ---- Spanish. App strings: "%1$s añadió a %2$s", "Se añadió a %s", "Se te añadió",
    # "%s salió", "Se eliminó a %s", "%1$s eliminó a %2$s", "Añadiste a %s",
    # "%1$s cambió el asunto a “%2$s”", "%1$s creó el grupo “%2$s”"; newer exports:
    # "%s se unió usando el enlace de invitación de este grupo", "agregó" (Latin America)
    _r(
        r"^(?P<a>.+?) se uni[oó] (?:usando|mediante|con|a través de) el enlace de invitaci[oó]n"
        r"(?: (?:de este|del) grupo)?$",
        Kind.JOIN,
        "joined_by_link",
        _LINK,
    ),
    _r(
        r"^Te uniste (?:usando|mediante|con|a través de) el enlace de invitaci[oó]n"
        r"(?: (?:de este|del) grupo)?$",
        Kind.JOIN,
        "joined_by_link",
        _LINK,
        you=True,
    ),
    _r(
        r"^(?P<a>.+?) se uni[oó] (?:al grupo )?(?:desde|a través de|mediante|por)"
        r" (?:la|esta) comunidad$",
        Kind.JOIN,
        "joined_from_community",
        _COMM,
    ),
    _r(
        r"^Te uniste (?:al grupo )?(?:desde|a través de|mediante|por) (?:la|esta) comunidad$",
        Kind.JOIN,
        "joined_from_community",
        _COMM,
        you=True,
    ),
    _r(r"^(?P<a>.+?) se uni[oó](?: al grupo)?$", Kind.JOIN, "joined", _UNK),
    _r(r"^(?P<t>Se te) (?:añadió|agregó)$", Kind.JOIN, "added", _BY),
    _r(r"^Se (?:añadió|agregó) a (?P<t>.+)$", Kind.JOIN, "added", _BY, many=True),
    _r(r"^(?P<a>.+?) te (?:añadió|agregó)$", Kind.JOIN, "added_you", _BY),
    _r(r"^(?:Añadiste|Agregaste) a (?P<t>.+)$", Kind.JOIN, "added", _BY, many=True, you=True),
    _r(r"^(?P<a>.+?) (?:añadió|agregó) a (?P<t>.+)$", Kind.JOIN, "added", _BY, many=True),
    _r(r"^(?P<t>Se te) eliminó(?: del grupo)?$", Kind.KICK, "removed"),
    _r(r"^Se eliminó a (?P<t>.+)$", Kind.KICK, "removed", many=True),
    _r(r"^(?P<a>.+?) te eliminó(?: del grupo)?$", Kind.KICK, "removed_you"),
    _r(r"^Eliminaste a (?P<t>.+)$", Kind.KICK, "removed", many=True, you=True),
    _r(r"^(?P<a>.+?) eliminó a (?P<t>.+)$", Kind.KICK, "removed", many=True),
    _r(r"^Saliste(?: del grupo)?$", Kind.LEAVE, "left", you=True),
    _r(r"^(?P<a>.+?) salió(?: del grupo)?$", Kind.LEAVE, "left"),
    _r(rf"^(?P<a>.+?) creó el grupo {_QUOTED}$", Kind.SERVICE, "group_created"),
    _r(rf"^Creaste el grupo {_QUOTED}$", Kind.SERVICE, "group_created", you=True),
    _r(r"^(?P<a>.+?) creó este grupo$", Kind.SERVICE, "group_created"),
    _r(
        rf"^(?P<a>.+?) cambió el (?:asunto|nombre del grupo) de {_OLD_QUOTED} a {_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        rf"^(?P<a>.+?) cambió el (?:asunto|nombre del grupo) a {_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        rf"^Cambiaste el (?:asunto|nombre del grupo) (?:de {_OLD_QUOTED} )?a {_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
        you=True,
    ),
    _r(
        r"^(?P<a>.+?) (?:cambió|eliminó) (?:el ícono|el icono|la foto|la imagen)"
        r" (?:de este|del) grupo$",
        Kind.SERVICE,
        "icon_changed",
    ),
    _r(
        r"^(?P<a>.+?) cambió (?:de .+? )?a (?P<new>\+[\d\s().\-]+)$",
        Kind.RENAME,
        "number_changed",
    ),
    # ---- Portuguese. App strings (pt-BR): "%1$s adicionou %2$s", "%s foi adicionado",
    # "%s saiu", "%s foi removido", "%1$s removeu %2$s", "%1$s alterou o nome do grupo
    # para “%2$s”", "%1$s alterado de %2$s para %3$s"; newer exports: "%s entrou usando
    # o link de convite deste grupo", "mudou o assunto de “A” para “B”"
    _r(
        r"^(?P<a>.+?) entrou (?:usando|através d[oe]|pelo|via) (?:o )?link de convite"
        r"(?: (?:deste|do) grupo)?$",
        Kind.JOIN,
        "joined_by_link",
        _LINK,
    ),
    _r(
        r"^(?P<a>.+?) entrou (?:no grupo )?(?:pela|através da|a partir da|da|via|pela) comunidade$",
        Kind.JOIN,
        "joined_from_community",
        _COMM,
    ),
    _r(r"^(?P<a>.+?) entrou(?: no grupo)?$", Kind.JOIN, "joined", _UNK),
    _r(r"^(?P<t>.+?) foi adicionad[oa]$", Kind.JOIN, "added", _BY),
    _r(r"^(?P<a>.+?) adicionou (?P<t>.+)$", Kind.JOIN, "added", _BY, many=True),
    _r(r"^(?P<t>.+?) foi removid[oa]$", Kind.KICK, "removed"),
    _r(r"^(?P<a>.+?) removeu (?P<t>.+)$", Kind.KICK, "removed", many=True),
    _r(r"^(?P<a>.+?) saiu(?: do grupo)?$", Kind.LEAVE, "left"),
    _r(rf"^(?P<a>.+?) criou o grupo {_QUOTED}$", Kind.SERVICE, "group_created"),
    _r(r"^(?P<a>.+?) criou este grupo$", Kind.SERVICE, "group_created"),
    _r(
        rf"^(?P<a>.+?) (?:mudou|alterou) o (?:assunto|nome do grupo|nome) de {_OLD_QUOTED}"
        rf" para {_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        rf"^(?P<a>.+?) (?:mudou|alterou) o (?:assunto|nome do grupo|nome) para {_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        r"^(?P<a>.+?) (?:mudou|alterou|apagou) (?:a imagem|o ícone) (?:deste|do) grupo$",
        Kind.SERVICE,
        "icon_changed",
    ),
    _r(
        r"^(?P<a>.+?) (?:mudou|alterou) a descrição do grupo.*$",
        Kind.SERVICE,
        "description_changed",
    ),
    _r(
        r"^(?P<a>.+?) alterad[oa] (?:de .+? )?para (?P<new>\+[\d\s().\-]+)$",
        Kind.RENAME,
        "number_changed",
    ),
    # ---- French. App strings: "%1$s a ajouté %2$s", "%s a été ajouté(e)", "%s est parti",
    # "%s a été retiré(e)", "%1$s a retiré %2$s", "%s vous a ajouté",
    # "%1$s a changé le sujet en “%2$s”", "%1$s a changé de %2$s à %3$s"
    _r(
        r"^(?P<a>.+?) (?:a|avez) rejoint (?:ce groupe |le groupe )?"
        r"(?:en utilisant|via|avec|grâce à)"
        r" le lien d['’]invitation(?: (?:de ce|du) groupe)?$",
        Kind.JOIN,
        "joined_by_link",
        _LINK,
    ),
    _r(
        r"^(?P<a>.+?) (?:a|avez) rejoint (?:ce groupe |le groupe )?(?:depuis|via|à partir de|par)"
        r" la communauté$",
        Kind.JOIN,
        "joined_from_community",
        _COMM,
    ),
    _r(r"^(?P<a>.+?) (?:a|avez) rejoint(?: (?:ce|le) groupe)?$", Kind.JOIN, "joined", _UNK),
    _r(r"^(?P<t>.+?) (?:a|avez) été ajouté(?:\(e\)|e)?s?$", Kind.JOIN, "added", _BY),
    _r(r"^(?P<a>.+?) vous a ajouté(?:\(e\)|e)?$", Kind.JOIN, "added_you", _BY),
    _r(r"^(?P<a>.+?) (?:a|avez) ajouté (?P<t>.+)$", Kind.JOIN, "added", _BY, many=True),
    _r(r"^(?P<t>.+?) (?:a|avez) été retiré(?:\(e\)|e)?s?$", Kind.KICK, "removed"),
    _r(r"^(?P<a>.+?) vous a retiré(?:\(e\)|e)?$", Kind.KICK, "removed_you"),
    _r(r"^(?P<a>.+?) (?:a|avez) retiré (?P<t>.+)$", Kind.KICK, "removed", many=True),
    _r(
        r"^(?P<a>.+?) (?:est parti(?:\(e\)|e)?|(?:a|avez) quitté(?: (?:le|ce) groupe)?|"
        r"êtes parti(?:\(e\)|e)?)$",
        Kind.LEAVE,
        "left",
    ),
    _r(rf"^(?P<a>.+?) (?:a|avez) créé (?:le )?groupe {_QUOTED}$", Kind.SERVICE, "group_created"),
    _r(r"^(?P<a>.+?) (?:a|avez) créé ce groupe$", Kind.SERVICE, "group_created"),
    _r(
        rf"^(?P<a>.+?) (?:a|avez) (?:changé|modifié) le (?:sujet|nom du groupe|nom)"
        rf" de {_OLD_QUOTED}"
        rf" (?:en|à|par) {_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        rf"^(?P<a>.+?) (?:a|avez) (?:changé|modifié) le (?:sujet|nom du groupe|nom) (?:en|à|par)"
        rf" {_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        r"^(?P<a>.+?) (?:a|avez) (?:changé|modifié|supprimé) (?:l['’]icône|la photo)"
        r" (?:de ce|du) groupe$",
        Kind.SERVICE,
        "icon_changed",
    ),
    _r(
        r"^(?P<a>.+?) a changé (?:de .+? )?(?:à|pour) (?P<new>\+[\d\s().\-]+)$",
        Kind.RENAME,
        "number_changed",
    ),
    # ---- Russian. App strings: "%1$s добавил(-а) %2$s", "%s покинул(-а) группу",
    # "%s был(-а) удален(-а)", "%1$s удалил(-а) %2$s", "Вы добавили %s",
    # "%1$s изменил(а) тему на “%2$s”"
    _r(
        r"^(?P<a>.+?) (?:присоединил(?:ся|ась|ись)\S*|вступил\S*) .*сообществ.*$",
        Kind.JOIN,
        "joined_from_community",
        _COMM,
    ),
    _r(
        r"^(?P<a>.+?) (?:присоединил(?:ся|ась|ись)\S*|вступил\S*) .*(?:ссылк|приглашени).*$",
        Kind.JOIN,
        "joined_by_link",
        _LINK,
    ),
    _r(
        r"^(?P<a>.+?) (?:присоединил(?:ся|ась|ись)\S*|вступил\S*)(?: к группе| в группу)?$",
        Kind.JOIN,
        "joined",
        _UNK,
    ),
    _r(r"^(?P<t>.+?) (?:был\S*|были) добавлен\S*$", Kind.JOIN, "added", _BY),
    _r(r"^(?P<t>.+?) (?:был\S*|были) удал[её]н\S*$", Kind.KICK, "removed"),
    _r(r"^(?P<a>.+?) добавил\S* (?P<t>.+)$", Kind.JOIN, "added", _BY, many=True),
    _r(r"^(?P<a>.+?) удалил\S* (?P<t>.+)$", Kind.KICK, "removed", many=True),
    _r(r"^(?P<a>.+?) покинул\S*(?: группу)?$", Kind.LEAVE, "left"),
    _r(rf"^(?P<a>.+?) создал\S* группу {_QUOTED}$", Kind.SERVICE, "group_created"),
    _r(
        rf"^(?P<a>.+?) изменил\S* (?:тему|название)(?: группы)? (?:с {_OLD_QUOTED} )?на {_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    # ---- Indonesian. App strings: "%1$s menambahkan %2$s", "%s telah ditambahkan",
    # "%s keluar", "%s telah dikeluarkan", "%1$s mengeluarkan %2$s",
    # "%1$s mengubah subjek menjadi “%2$s”", "%1$s mengganti nomor dari %2$s ke %3$s"
    _r(
        r"^(?P<a>.+?) bergabung (?:menggunakan|melalui|lewat|dengan) tautan undangan"
        r"(?: grup ini)?$",
        Kind.JOIN,
        "joined_by_link",
        _LINK,
    ),
    _r(
        r"^(?P<a>.+?) bergabung (?:ke grup )?(?:dari|melalui|lewat|via) komunitas$",
        Kind.JOIN,
        "joined_from_community",
        _COMM,
    ),
    _r(r"^(?P<a>.+?) bergabung(?: ke grup)?$", Kind.JOIN, "joined", _UNK),
    _r(r"^(?P<t>Anda) ditambahkan$", Kind.JOIN, "added", _BY),
    _r(r"^(?P<t>.+?) telah ditambahkan$", Kind.JOIN, "added", _BY),
    _r(r"^(?P<a>.+?) menambahkan (?P<t>.+)$", Kind.JOIN, "added", _BY, many=True),
    _r(r"^(?P<t>.+?) telah dikeluarkan$", Kind.KICK, "removed"),
    _r(r"^(?P<a>.+?) mengeluarkan (?P<t>.+)$", Kind.KICK, "removed", many=True),
    _r(r"^(?P<a>.+?) keluar$", Kind.LEAVE, "left"),
    _r(rf"^(?P<a>.+?) membuat grup {_QUOTED}$", Kind.SERVICE, "group_created"),
    _r(
        rf"^(?P<a>.+?) mengubah (?:subjek|nama grup) (?:dari {_OLD_QUOTED} )?menjadi {_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        r"^(?P<a>.+?) (?:mengganti nomor (?:dari .+? )?ke|diganti ke) (?P<new>\+[\d\s().\-]+)$",
        Kind.RENAME,
        "number_changed",
    ),
)

#: A hint WhatsApp appends to some notices ("X added Y. Tap to change member
#: permissions."); it is not part of the names.
_TAP_HINT = re.compile(r"\.\s+Tap (?:here )?(?:to|for) [^.]*\.?$")

#: Texts that fit a system rule's *start* but sit before ": " in an Android
#: line, e.g. ``X changed the subject from "a: b" to "c"``; such a line is not
#: a message by "X changed the subject from "a".
SYSTEM_IN_AUTHOR = re.compile(
    r" changed the (?:subject|group name|group description)| created group | added | removed |"
    r"将群组名称|创建了群组|更改了|添加了|移除了| hat | hast | añadió a | agregó a | eliminó a |"
    r" cambió el | adicionou | removeu | mudou o | alterou o | a ajouté | a retiré | a changé |"
    r" добавил| удалил| изменил| menambahkan | mengeluarkan | mengubah ",
)


def classify_system(text: str, known: KnownName | None = None) -> SystemAction:
    """The action a system text describes; unknown texts become a SERVICE.

    ``known`` tells whether a name was already seen in the file; it keeps names
    that contain a list separator whole when a notice lists several members.
    """
    core = text.strip()
    if "Tap " in core:
        core = _TAP_HINT.sub("", core)
    core = core.rstrip(".。")
    for rule in _RULES:
        m = rule.regex.match(core)
        if m is None:
            continue
        groups = m.groupdict()
        actor = groups.get("a") or next(
            (v for k, v in groups.items() if k.startswith("a") and v), None
        )
        if rule.you:
            actor = "You"
        raw_t = groups.get("t")
        if rule.service in ("added_you", "removed_you"):
            raw_t = "You"
        if raw_t is not None:
            if rule.many:
                targets = tuple(split_members(raw_t, known) if known else split_members(raw_t))
            else:
                targets = (raw_t,)
        elif rule.kind in (Kind.JOIN, Kind.LEAVE):
            targets = (actor,) if actor else ()
        else:
            targets = ()
        return SystemAction(
            kind=rule.kind,
            service=rule.service.removesuffix("_you"),
            actor=actor,
            targets=targets,
            method=rule.method,
            title=groups.get("title") or groups.get("new"),
            old=groups.get("old") or (actor if rule.kind is Kind.RENAME else None),
        )
    return SystemAction(Kind.SERVICE, "other")


def looks_like_system(text: str) -> bool:
    """Whether a text is one of the known system wordings (iOS puts them after a name)."""
    return classify_system(text).service != "other"


# --------------------------------------------------------------------------- bodies


@dataclass(slots=True)
class Body:
    """A message body read from the export: type, text and media placeholder."""

    type: MsgType
    text: str
    media: str | None = None
    deleted: bool = False
    extra: dict[str, object] = field(default_factory=dict)


#: Whole-body placeholders (after stripping U+200E and whitespace).
_PLACEHOLDERS: dict[str, MsgType] = {
    "<media omitted>": MsgType.OTHER,
    "<省略影音内容>": MsgType.OTHER,
    "<已省略多媒體檔案>": MsgType.OTHER,
    "<附件未下载>": MsgType.OTHER,
    "<medien ausgeschlossen>": MsgType.OTHER,
    "<multimedia omitido>": MsgType.OTHER,
    "<mídia oculta>": MsgType.OTHER,
    "<midia oculta>": MsgType.OTHER,
    "<arquivo de mídia oculto>": MsgType.OTHER,
    "<medien ausgelassen>": MsgType.OTHER,
    "<médias omis>": MsgType.OTHER,
    "<без медиафайлов>": MsgType.OTHER,
    "<media tidak disertakan>": MsgType.OTHER,
    "image omitted": MsgType.IMAGE,
    "photo omitted": MsgType.IMAGE,
    "gif omitted": MsgType.IMAGE,
    "video omitted": MsgType.VIDEO,
    "audio omitted": MsgType.VOICE,
    "sticker omitted": MsgType.STICKER,
    "document omitted": MsgType.FILE,
    "contact card omitted": MsgType.CONTACT,
    "bild weggelassen": MsgType.IMAGE,
    "video weggelassen": MsgType.VIDEO,
    "audio weggelassen": MsgType.VOICE,
    "sticker weggelassen": MsgType.STICKER,
    "gif weggelassen": MsgType.IMAGE,
    "dokument weggelassen": MsgType.FILE,
    "圖片已略去": MsgType.IMAGE,
    "影片已略去": MsgType.VIDEO,
    "音訊已略去": MsgType.VOICE,
    "貼圖已略去": MsgType.STICKER,
    "貼圖已忽略": MsgType.STICKER,
    "图片已略去": MsgType.IMAGE,
    "视频已略去": MsgType.VIDEO,
    "音频已略去": MsgType.VOICE,
    "贴图已略去": MsgType.STICKER,
    "missed voice call": MsgType.CALL,
    "missed video call": MsgType.CALL,
    "voice call": MsgType.CALL,
    "video call": MsgType.CALL,
}

_DELETED = frozenset(
    {
        "this message was deleted",
        "you deleted this message",
        "这条消息已删除",
        "此消息已删除",
        "您已删除此消息",
        "你已删除此消息",
        "你删除了此消息",
        "您删除了此消息",
        "此訊息已刪除",
        "你已刪除此訊息",
        "diese nachricht wurde gelöscht",
        "du hast diese nachricht gelöscht",
        "se eliminó este mensaje",
        "eliminaste este mensaje",
        "este mensaje fue eliminado",
        "mensaje eliminado",
        "esta mensagem foi apagada",
        "você apagou esta mensagem",
        "mensagem apagada",
        "ce message a été supprimé",
        "vous avez supprimé ce message",
        "данное сообщение удалено",
        "это сообщение удалено",
        "вы удалили данное сообщение",
        "вы удалили это сообщение",
        "pesan ini telah dihapus",
        "anda menghapus pesan ini",
        "你刪除了此訊息",
        "此訊息已被刪除",
    }
)

_EDITED = re.compile(
    r"\s*\u200e?<(?:This message was edited|Diese Nachricht wurde bearbeitet|"
    r"已编辑此消息|此消息已编辑|此消息已被编辑|已編輯此訊息|Se editó este mensaje\.?|"
    r"Mensagem editada|Esta mensagem foi editada|Ce message a été modifié|"
    r"Сообщение изменено|Pesan ini telah diedit|Pesan diedit)>$"
)

#: iOS: ‎<attached: 00000012-PHOTO-2020-12-31-21-41-05.jpg>; de <Anhang: …>; zh <附件：…>
_ATTACHED = re.compile(
    r"^\u200e?<\s*(?:attached|Anhang|附件|已附加|adjunto|anexo)\s*[:：]\s*(.+?)\s*>"
)
#: Android with media: "IMG-20201231-WA0001.jpg (file attached)" on the first line.
_FILE_ATTACHED = re.compile(
    r"^\u200e?(.+?\.\w{1,5}) \((?:file attached|文件附件|Datei angehängt|archivo adjunto|"
    r"arquivo anexado|檔案已附加|fichier joint|файл прикреплен|файл прикреплён|file terlampir)\)$"
)

_MEDIA_WORDS: tuple[tuple[tuple[str, ...], MsgType], ...] = (
    (("-PHOTO-", "IMG-", "IMG_"), MsgType.IMAGE),
    (("-VIDEO-", "VID-", "VID_"), MsgType.VIDEO),
    (("-AUDIO-", "PTT-", "AUD-"), MsgType.VOICE),
    (("-STICKER-", "STK-"), MsgType.STICKER),
    (("-GIF-",), MsgType.IMAGE),
)


def media_type(name: str) -> MsgType:
    """Message type from an attachment's file name as WhatsApp names them."""
    upper = name.upper()
    for words, kind in _MEDIA_WORDS:
        if any(w in upper for w in words):
            return kind
    if upper.endswith(".VCF"):
        return MsgType.CONTACT
    if upper.endswith(".WEBP"):
        return MsgType.STICKER
    return MsgType.FILE


def _attachment(text: str) -> Body | None:
    first, _, rest = text.partition("\n")
    m = _ATTACHED.match(first) or _FILE_ATTACHED.match(first)
    if m is None:
        return None
    name = m.group(1)
    caption = (first[m.end() :].strip() + "\n" + rest).strip()
    return Body(media_type(name), caption, media=name)


_SPECIAL_FIRST = frozenset("\u200e<")
_SPECIAL_LAST = frozenset(">)")
_SPECIAL_STARTS = (
    *("POLL:\n", "ENCUESTA:\n", "ENQUETE:\n", "SONDAGE:\n", "UMFRAGE:\n", "ОПРОС:\n"),
    *("location: ", "Location: ", "standort: ", "Standort: ", "位置"),
    *("ubicación: ", "Ubicación: ", "localização: ", "Localização: "),
    *("position : ", "Position : ", "местоположение: ", "Местоположение: "),
    *("lokasi: ", "Lokasi: "),
)
_SHORT_KEYS = frozenset({*_PLACEHOLDERS, *_DELETED, "null"})


_POLL_STARTS = tuple(x for x in _SPECIAL_STARTS if x.endswith(":\n"))
_LOCATION_STARTS = (
    *("location: ", "standort: ", "位置: ", "位置：", "ubicación: ", "localização: "),
    *("position : ", "местоположение: ", "lokasi: "),
)


def is_plain(text: str) -> bool:
    """Cheap test for the common case: an ordinary text message.

    Everything :func:`classify_body` recognises starts with U+200E or ``<``,
    ends with ``>`` or ``)``, has a ``)`` ending its first line, starts with a
    poll/location prefix, or is one of a few short placeholders.
    """
    if text[:1] in _SPECIAL_FIRST or text[-1:] in _SPECIAL_LAST:
        return False
    if len(text) < 48 and text.rstrip(". ").lower() in _SHORT_KEYS:
        return False
    return not (text.startswith(_SPECIAL_STARTS) or ")\n" in text)


def classify_body(text: str) -> Body:
    """Type, visible text and media of a message body."""
    extra: dict[str, object] = {}
    if text.endswith(">") and "<" in text:
        m = _EDITED.search(text)
        if m is not None:
            text = text[: m.start()]
            extra["edited"] = True
    if len(text) < 48:
        key = text.strip().strip("\u200e").strip().rstrip(".").lower()
        if key in _PLACEHOLDERS:
            return Body(_PLACEHOLDERS[key], "", media=text.strip("\u200e ").strip(), extra=extra)
        if key in _DELETED:
            return Body(MsgType.OTHER, "", deleted=True, extra=extra)
        if key == "null":  # Android's view-once media
            extra["view_once"] = True
            return Body(MsgType.OTHER, "", extra=extra)
    nl = text.find("\n")
    first = text if nl < 0 else text[:nl]
    if first.endswith(")") or text[:1] in ("\u200e", "<"):
        body = _attachment(text)
        if body is not None:
            body.extra.update(extra)
            return body
    if text.startswith(_POLL_STARTS):
        return Body(MsgType.POLL, text, extra=extra)
    low = text[:16].lstrip("\u200e").lower()
    if low.startswith(_LOCATION_STARTS):
        return Body(MsgType.LOCATION, text.lstrip("\u200e"), extra=extra)
    return Body(MsgType.TEXT, text.lstrip("\u200e"), extra=extra)
