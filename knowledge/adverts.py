"""One advert detector, for ingest cleaning and for the answer guard, in English and Chinese.

A text unit (a block, a line, a sentence) is scored by the *distinct categories* of commercial language
it carries, not by a list of whole advert phrases:

- ``cta``: a call to action that names a channel — scan a QR code, add a contact on WeChat / WhatsApp /
  Telegram / a 公众号, join a group / community / 星球 / discord, click a link, sign up, 报名, 私信, 咨询;
- ``offer``: an offer or a price — 原价 / 现价 / 限时 / 立减 / 优惠券 / discount / coupon / promo code /
  "% off" / free trial / 名额有限 / limited seats, 只需 ¥99 (a bare amount is no cue: salaries and fees are
  amounts too);
- ``pitch``: claims about what is sold — 手把手, 包教包会, 往期学员, "our alumni landed …";
- ``product``: something being sold — a course, 课程, 训练营, bootcamp, membership, VIP, 专栏, 资料包,
  templates, 1v1 coaching, a 内推 service.

A unit is an advert when it carries two categories or more, or one *strong* cue (a QR code, "add me on
WeChat", 关注公众号, a coupon code, 原价 …) while short. A long article paragraph needs more: all three
categories, or two with two strong cues — so a paragraph that mentions WeChat, a course or a salary in ¥
stays content. Each category alone is ordinary career talk ("a course on statistics helps", "the offer
was ¥30k a month", "we coordinate on WeChat"); it is their combination that sells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .text import split_sentences, weight

_CHANNEL_EN = r"(?:we\s?chat|whats\s?app|telegram|discord|signal|line|kakao|instagram|ig|tiktok|x|twitter|linkedin)"
_CHANNEL_ZH = r"(?:微信|vx|v信|wx|薇信|威信|企微|公众号|视频号|小红书|抖音|b站|知乎|qq)"
SHORT_WEIGHT = 300  # up to about 50 English words / 100 Chinese characters: one strong cue suffices
_I = re.I


# (category, strong, pattern). Strong cues are unambiguous on their own in a short unit.
_CUES: list[tuple[str, bool, list[str]]] = [
    # --- calls to action naming a channel
    ("cta", True, [
        r"\bqr[\s-]?codes?\b", r"二维码", r"扫码", r"扫一扫", r"长按(识别|扫描|二维码)", r"识别(下方|上方|图中)",
    ]),
    ("cta", True, [
        r"\bscan\b.{0,20}\b(qr|barcode)\b", r"\bscan (the|this|my|our) code (below|above)\b",
    ]),
    ("cta", True, [
        r"\b(add|message|dm|contact|ping|follow|find|reach)\s+(me|us)\s+(on|via|at)\s+" + _CHANNEL_EN + r"\b",
    ]),
    ("cta", True, [
        r"(微信|vx|wx|v信|威信|薇信)\s?(号\s?[:：]?|[:：])\s?[A-Za-z0-9_-]{4,}",
        r"\b(we\s?chat|whats\s?app|telegram)( id)?\s?[:：]\s?[A-Za-z0-9_+@-]{4,}",
    ]),
    ("cta", True, [
        r"\b(dm|pm|inbox)\s+me\b", r"\blink in (my |the )?bio\b", r"\bslide into (my|our) dms\b",
    ]),
    ("cta", True, [
        r"\bjoin (our|my) (paid |private |vip |exclusive |free )?(community|group|discord|telegram|slack|whatsapp)\b",
        r"\bjoin (our|my) (paid |private |vip |exclusive |free )?(circle|cohort|waitlist|server|channel|club)\b",
    ]),
    ("cta", True, [
        r"\b(click|tap) (the |this |on the )?(link|button|banner)\b", r"\bclick here\b", r"\blink below\b",
    ]),
    ("cta", True, [
        r"(?<![参增更追叠附外施])(加|添加|加一下|加下)\s?(我|我们|小编|助理|助教|小助手|老师|客服)?(的)?(个人)?\s?"
        + _CHANNEL_ZH,
        r"(添加|加)(小助手|助教|助理|客服|小编|老师)", r"(添加|加)(我|我们)(为)?好友",
    ]),
    ("cta", True, [
        r"关注.{0,8}(公众号|视频号|账号)", r"(公众号|后台).{0,6}回复", r"私信(我|小编|后台|老师|博主)", r"上方蓝字",
        r"点击.{0,8}(链接|下方|上方|阅读原文|原文|卡片|头像|主页)", r"戳.{0,6}(链接|下方|原文)",
        r"评论区.{0,4}(留言|扣|回复)", r"点赞.{0,3}(关注|收藏|在看)", r"一键三连", r"知识星球",
    ]),
    ("cta", True, [
        r"(加入|进入?|来)(我们的|我的|本|粉丝|读者|学员|学习|交流|付费|会员|vip|内推|求职)+(社群|群|星球)",
        r"(社群|星球|付费群|粉丝群|交流群|学习群)(入口|链接|二维码)",
    ]),
    ("cta", False, [
        r"^\W*sign up\b", r"\bsign up (now|today|here|at|via|for (our|my|this|the next) )",
        r"\bregister (now|today|here|at)\b", r"\benroll(ment)? (now|today|here|opens?)\b",
        r"\bbook (a|your) (free )?(call|session|slot|consultation|spot)\b", r"\bsubscribe\b", r"\bfollow me\b",
        r"\b(apply|join|buy|grab|get yours) (now|today|here)\b",
    ]),
    ("cta", False, [
        r"报名(链接|入口|方式|通道|请|即可|中|开启|截止)", r"(立即|马上|赶紧|火热|欢迎|扫码|点击)报名", r"预约",
        r"订阅", r"关注我", r"(进|加)群", r"(免费|一对一|1[vV对]1)咨询", r"欢迎.{0,4}(咨询|私信|联系)",
        r"咨询(请|小助手|老师|客服|\s?[:：])", r"领取", r"免费领", r"私信", r"留言", r"回复.{0,8}(领取|获取|即可)",
    ]),
    ("cta", False, [
        r"\breply\b.{0,30}\bto (get|receive|claim)\b", r"\bcheck out (my|our)\b",
        r"\b(my|our) (referral|affiliate) link\b",
        r"私我", r"滴滴我", r"戳我", r"找我(领|要|拿)", r"(购买|下单|领取|加群|入群)(链接|地址|入口)",
        r"\b(claim|grab|download) (your|the) free\b",
    ]),
    # --- offers and prices (a bare amount is no cue: salaries and course fees are amounts too)
    ("offer", True, [
        r"原价", r"现价", r"立减", r"直降", r"券后", r"优惠(券|码)", r"折扣码",
        r"(限时|限量)(优惠|特价|折扣|免费|福利|秒杀|抢购)", r"特价", r"仅限\s?\d+\s?(名|人|位)", r"买一送一",
        r"粉丝福利", r"读者福利", r"福利(来了|放送)", r"(立即|马上)(抢购|购买|下单)",
    ]),
    ("offer", True, [
        r"\bsponsored by\b", r"\b(this|today's) (post|video|article|episode|newsletter) is sponsored\b",
        r"\b(coupon|promo|discount) codes?\b", r"\buse (the )?code (?-i:[A-Z0-9]{4,})\b", r"\b\d{1,2}\s?% off\b",
        r"\blimited[- ]time (offer|deal|discount|price|only)\b", r"\blimited (seats|spots|places) left\b",
        r"\b(only|just) \d+ (seats|spots|places) left\b",
    ]),
    ("offer", False, [
        r"无偿分享", r"免费分享", r"白嫖", r"[0零]元(领|学|购|得)", r"优惠", r"折扣", r"打折", r"半价", r"秒杀",
        r"拼团", r"早鸟", r"限时", r"名额有限",
        # guarantees: sold with, and warned about in advice ("beware of 包就业 promises"): never enough alone
        r"\b(money[- ]back|job|placement) guarantee", r"包就业", r"保就业", r"保offer", r"不过退款", r"无效退款",
        r"免费(送|领|试听|体验|试学)",
        r"(仅需|只需|只要|低至)\s?[¥￥$]?\s?\d",
        r"\b(a|an|\d+%|big|special|student|group) discount\b", r"\bdiscounted (price|rate|seats?|tickets?)\b",
        r"\bhalf price\b", r"\bsave \d+",
        r"\b(only|just) [$€£¥]\s?\d", r"\bfree trial\b", r"\bearly[- ]bird\b", r"\blimited (seats|spots|places)\b",
    ]),
    # --- a sales pitch: claims made about what is sold (results, hand-holding, how many bought it)
    ("pitch", False, [
        r"手把手", r"带你(从|入门|拿|搞定|做|冲)", r"包教包会", r"从入门到精通", r"从0到1带", r"往期学员",
        r"学员(拿到|斩获|入职|好评|遍布)",
        r"(上千|上万|数千|数万|\d+\+?)(名|位)?学员", r"已(帮助|服务)(了)?.{0,6}(人|学员|同学)", r"好评如潮", r"性价比",
        r"\b(our|my) (students|alumni|graduates|members) (have )?(landed|got|joined|received)\b",
        r"\b(thousands|hundreds) of (students|learners|members)\b", r"\bfrom zero to (hero|hired|job|offer)\b",
        r"\bstep[- ]by[- ]step (course|program|guidance)\b", r"\bhand[- ]holding\b",
    ]),
    # --- products being sold
    ("product", False, [
        r"\b(courses?|bootcamps?|cohorts?|masterclass(es)?|memberships?|vip|e-?books?|templates?)\b",
        r"\b(resource (pack|bundle)s?|(course|study) packs?|workshops?|webinars?|program(me)?s?)\b",
        r"\b(1[:-]?on[:-]?1|one[- ]on[- ]one|1v1|private) (coaching|mentoring|tutoring|sessions?)\b",
        r"\b(resume|cv|interview) (review|coaching) service\b", r"\breferral service\b",
        r"\b(my|our) (new |paid |online |flagship )?(course|bootcamp|cohort|program|membership|community)\b",
        r"\b(my|our) (new |paid |online |flagship )?(newsletter|e-?book|templates?|coaching)\b",
    ]),
    ("product", False, [
        r"课程", r"网课", r"好课", r"实战课", r"公开课", r"直播课", r"训练营", r"集训营", r"特训营", r"会员", r"vip",
        r"专栏", r"资料包", r"资源包", r"礼包", r"学习资料", r"面试资料", r"模板", r"题库", r"电子书", r"1[vV对]1",
        r"一对一", r"辅导", r"(就业|全程|冲刺|速成|精品|进阶|提高)班", r"(年|季|月)卡会员", r"私教", r"陪跑",
        r"内推(服务|码|群|名额)", r"付费(社群|群|专栏)", r"社群", r"星球",
        r"(我|我们)(的|家)(新)?(课程|课|训练营|社群|星球|专栏|会员|陪跑|辅导|资料)",
        r"本(课程|训练营|专栏|社群|星球)",
    ]),
]
_COMPILED = [(cat, strong, re.compile("|".join(alts), _I)) for cat, strong, alts in _CUES]


@dataclass(frozen=True)
class AdvertScore:
    """The commercial language a text carries: which categories, which cues, how many strong."""

    categories: frozenset[str] = frozenset()
    cues: frozenset[str] = frozenset()
    strong: frozenset[str] = field(default_factory=frozenset)
    weight: int = 0

    @property
    def points(self) -> int:
        """Distinct cues, a strong one counting twice."""
        return len(self.cues) + len(self.strong)

    @property
    def commercial(self) -> bool:
        """Any commercial cue at all (weaker than an advert: a neighbour of one may be its pitch)."""
        return bool(self.categories)

    @property
    def is_advert(self) -> bool:
        cats = len(self.categories)
        if self.weight <= SHORT_WEIGHT:
            return bool(self.strong) or cats >= 2
        return cats >= 2 and (len(self.strong) >= 2 or (cats >= 3 and self.points >= 5))


@lru_cache(maxsize=16384)  # the answer guard reads the same candidate sentences for every question
def advert_score(text: str) -> AdvertScore:
    """Score one text unit by the distinct categories of commercial language in it."""
    cats: set[str] = set()
    cues: set[str] = set()
    strong: set[str] = set()
    for cat, is_strong, rx in _COMPILED:
        for m in rx.finditer(text):
            cue = m.group(0).lower()
            cats.add(cat)
            cues.add(cue)
            if is_strong:
                strong.add(cue)
    return AdvertScore(frozenset(cats), frozenset(cues), frozenset(strong), weight(text))


def is_advert(text: str) -> bool:
    """Whether this unit (a block, a line or a sentence) is an advert."""
    return advert_score(text).is_advert


def contains_advert(text: str) -> bool:
    """Whether the text is an advert or holds an advert sentence (an answer, a quote)."""
    return is_advert(text) or any(is_advert(s) for s in split_sentences(text))


def trailing_advert(text: str) -> int | None:
    """Where an advert tacked onto the end of a content paragraph starts, or None.

    The last sentences are taken back while each is an advert on its own; the content before them must
    remain (a paragraph that is all advert is ``is_advert``'s case).
    """
    sentences = split_sentences(text)
    cut: int | None = None
    pos = len(text)
    for s in reversed(sentences[1:]):
        at = text.rfind(s, 0, pos)
        if at <= 0 or not is_advert(s):
            break
        cut, pos = at, at
    if cut is None or not text[:cut].strip() or is_advert(text[:cut]):
        return None
    return cut
