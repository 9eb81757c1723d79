// lang_cld2.cc: CLD2's language of each item (bench/lang_items.py's file on standard
// input), mapped to samtale's codes, one a line: Norwegian (CLD2's "no", bokmål) nb, its
// "nn" nn, da, sv and en as they are, UNKNOWN und, anything else other. It asks
// ExtDetectLanguageSummary, which answers UNKNOWN when CLD2 cannot tell (DetectLanguage
// answers English then). Linked with -lcld2_full before -lcld2: the default tables have
// no nynorsk. For bench/lang_compare.sh only.
#include <cstdio> // before CLD2 header, which uses FILE without including it
#include <cld2/public/compact_lang_det.h>

#include <cstring>
#include <iostream>
#include <string>

int main()
{
    std::string line;
    while(std::getline(std::cin, line)) {
        size_t at = 0;
        for(int tabs = 0; tabs < 3 && at != std::string::npos; tabs++) {
            at = line.find('\t', at);
            if(at != std::string::npos)
                at++;
        }
        std::string text = at == std::string::npos ? std::string() : line.substr(at);
        bool reliable = false;
        CLD2::Language three[3];
        int percent[3], bytes = 0;
        CLD2::Language l =
            CLD2::ExtDetectLanguageSummary(text.data(), (int)text.size(), true, three, percent, &bytes, &reliable);
        std::string code = CLD2::LanguageCode(l);
        if(l == CLD2::UNKNOWN_LANGUAGE)
            code = "und";
        else if(code == "no")
            code = "nb";
        else if(code != "nn" && code != "da" && code != "sv" && code != "en")
            code = "other";
        std::cout << code << '\n';
    }
    return 0;
}
