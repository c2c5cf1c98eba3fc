"""Requests for someone else's personal data ("옆집 할머니 전화번호 좀 알려 주세요"), refused politely.

The bot never gives out a person's phone number, address, resident registration number, medical
records or complaint results, on any channel: it cannot know who is asking. What the caller may ask
about their *own* data ("제 주민등록등본 발급 방법", "내 전화번호 변경") and the public numbers and
addresses of offices ("주민센터 전화번호", "구청 주소") are ordinary questions for the knowledge base.

The check runs on ``compact`` text (no spaces: STT spacing is unreliable) in three steps:

1. a personal data item is named (전화번호, 연락처, 주소, 사는 곳, 주민등록번호, 진료 기록, 민원 처리
   결과 ...; a bare 번호 only right after its owner, since 접수 번호 or 버스 번호 are not personal);
2. whose it is: the words right before the item (past a particle: 의, 네, 씨의 ...) name its owner. An
   office (주민센터, 구청, 병원, 센터, 학교 ...) makes it public and self-reference (제, 내, 본인) the
   caller's own: neither is refused; a relative, a neighbour, a name with 씨 or 님, 다른 사람, 누구 ... is
   someone else. With no owner right before the item, someone else named anywhere counts only when the
   caller also asks to be told (알려, 조회, 가르쳐, 찾아 ...);
3. a procedure question ("남편 주소 이전 신고 방법", "아들 등본 대리 발급하려면") is not a request for
   the data itself and goes to the knowledge base, unless the caller plainly asks to be told the data.
"""

from __future__ import annotations

import re

from .normalize import compact

# The pseudo-intent of the refusal turn: what call logs, inquiry records and metrics count.
REFUSAL_INTENT = "personal_data_refusal"

# Personal data items, as a phone recogniser writes them (spacing removed first).
_ITEM = re.compile(
    r"(휴대폰|핸드폰|휴대전화|집|자택|개인)?(전화번호|전화번오|저나번호|전번|폰번호|연락처|연락쳐|휴대폰번호|핸드폰번호)|"
    r"주민등록번호|주민등록번오|주민번호|주민번오|생년월일|"
    r"(집|자택|사는|현|현재)?(주소|주쏘)|주소지|거주지|사는곳|어디(에)?사(는지|시는지|세요|시나요|나요|니|냐|는가)|어디살|"
    r"이사간곳|이사간데|어디로이사|"
    r"(병원|진료|의료|입원|치료|처방|검진|건강검진)(기록|내역|정보|결과|받은거)|병력|건강정보|"
    r"민원(처리)?(결과|내용|내역|진행상황|처리상황)|"
    r"계좌번호|통장번호|이메일|메일주소|가족관계|개인정보|신상정보|신상"
)
# "번호" alone names personal data only right after its owner ("김철수 씨 번호", "할머니 번호").
_BARE_NUMBER = re.compile(r"번호")

# Whose an item is, read backwards from it: what may stand between the owner and the item.
_PARTICLE = r"(의|이|가|은|는|을|를|네|네집|댁|께서|한테|에게|쪽|측|좀|거|것|꺼)?"
_OFFICE = (
    r"(주민센터|행정복지센터|동사무소|구청|시청|도청|군청|청사|센터|사무소|사무실|보건소|병원|의원|약국|"
    r"경찰서|지구대|파출소|소방서|학교|유치원|어린이집|도서관|우체국|은행|공단|공사|기관|회사|역|터미널|"
    r"공항|사업소|구|동|시|과|팀|부서|소|청|처|국|관|콜센터|120|다산콜|관공서|복지관|경로당|주차장|시장|법원|등기소|세무서|"
    r"출입국|대사관|영사관|협회|재단|홈페이지|사이트|본부|위원회|공원|체육관|수영장|구민회관|대표)"
)
_SELF = r"(제|내|나의|저의|저|나|저희|본인|자신)"
# People a caller may name anywhere in a sentence (whole words even without spaces).
_PEOPLE = (
    r"옆집|앞집|뒷집|윗집|아랫집|이웃|남편|아내|부인|와이프|집사람|신랑|아들|딸|자녀|자식|애들|엄마|아빠|"
    r"어머니|어머님|아버지|아버님|부모님|부모|할머니|할머님|할아버지|할아버님|할매|할배|손자|손녀|동생|"
    r"우리형|친형|형님|오빠|언니|누나|형제|자매|친구|지인|친척|사촌|삼촌|이모|고모|조카|며느리|사위|"
    r"시어머니|시아버지|장모|장인|시댁|처가|전남편|전처|전부인|(?<!장)애인|여자친구|남자친구|여친|남친|"
    r"동료|세입자|집주인|임대인|임차인|채무자|채권자|가해자|아저씨|아주머니|아줌마|아가씨|"
    r"다른사람|다른분|남의|타인|그사람|저사람|이사람|그여자|그남자|모르는사람|"
    r"(?<![날솜글말맵음])[가-힣]{2,4}씨|[가-힣]{2,4}(이)?라는(사람|분|할머니|할아버지|아이|학생)"
)
# Owners named right before the item only (elsewhere these words mean other things: 아이디, 누구한테).
_OWNERS = (
    _PEOPLE + r"|아이(?!디)|누구|누가|이분|그분|저분|어르신|주인|차주|명의자|당사자|상대방|[가-힣]{2,3}님"
)
# Titles with 님 that name staff of an office, whose office contact is public: not someone else's data.
_TITLE = re.compile(
    r"(고객|상담원|상담사|담당자|담당|주무관|과장|팀장|국장|계장|동장|구청장|시장|원장|센터장|직원|"
    r"공무원|선생|기사|소장|부장|실장|관장|교장|회장|의원)님" + _PARTICLE + "$"
)
_OWNER_OTHER = re.compile(r"(" + _OWNERS + r")" + _PARTICLE + r"$")
_OWNER_OFFICE = re.compile(_OFFICE + _PARTICLE + r"$")
_OWNER_SELF = re.compile(_SELF + _PARTICLE + r"$")
_SOMEONE_ELSE = re.compile(_PEOPLE)
# "이 번호 주인이 누구예요", "이 전화번호 누구 거예요": whose a number (or a car, an account) is.
_WHOSE = re.compile(r"(번호|전화번호|차|차량|계좌)(가|이|는|은)?(주인|명의자|누구|누군)")

# The caller asks to be told (needed when no owner stands right before the item).
_ASK = re.compile(
    r"알려|가르쳐|조회|찾아|알수있|알수없|알아봐|알아볼|알아낼|알아내|말해|불러|확인해|확인좀|확인가능|"
    r"확인할수|열람|볼수있|받을수있|얻을수|알고싶|어떻게되|뭐예요|뭐에요|뭔가요|뭐죠|뭡니까|뭐야|몇번이"
)
_PROCEDURE = re.compile(
    r"방법|절차|어떻게해|어떻게하|하려면|하는법|서류|신청|신고|발급|등본|초본|증명서|변경하|변경했|변경신고|"
    r"변경은|변경을|바꾸려|바꾸고|바꿔야|바꿨|이전하|이전했|이전은|이전을|옮기려|옮겨야|옮겼|정정|대리|"
    r"위임|등록하|어디서해|어디서하|어디로가|가야돼|가야되|가야하"
)
# 알려 주다 with the caller as the one who tells ("제 번호를 옆집에 알려줘도 되나요") is not a request.
_TELLING = re.compile(r"알려줘도|알려드리|알려드려|알려줘야|가르쳐줘도|알려주면안|말해줘도|불러드리")


def asks_for_others_data(text: str) -> bool:
    """Whether ``text`` (Korean, as heard or typed) asks for someone else's personal data."""
    c = compact(text)
    if not c or _TELLING.search(c):
        return False
    if _PROCEDURE.search(c) and not _plainly_asks(c):
        return False
    if _WHOSE.search(c):
        return True
    asks = bool(_ASK.search(c))
    for found in _items(c):
        before = c[: found.start()]
        if _OWNER_OTHER.search(before) and not _TITLE.search(before):
            return True
        if _OWNER_OFFICE.search(before) or _OWNER_SELF.search(before):
            continue
        if found.group() != "번호" and asks and _SOMEONE_ELSE.search(c):
            return True
    return False


def _items(c: str) -> list[re.Match[str]]:
    found = list(_ITEM.finditer(c))
    covered = {i for m in found for i in range(m.start(), m.end())}
    found += [m for m in _BARE_NUMBER.finditer(c) if m.start() not in covered]
    return found


def _plainly_asks(c: str) -> bool:
    """A procedure word is in the sentence, yet the caller asks to be told the data itself."""
    return bool(re.search(r"(알려|가르쳐|조회|찾아)(주|줘|줄|달)", c)) and not re.search(
        r"방법|절차|하려면|하는법|서류|어떻게", c
    )
