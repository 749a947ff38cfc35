package strictjson_test

import (
	"testing"

	"github.com/chatcards/chatcards/shared/strictjson"
)

func TestUnmarshalIsStrict(t *testing.T) {
	type body struct {
		SessionID string `json:"sessionId"`
	}
	for _, tc := range []struct {
		in      string
		wantErr bool
		want    string
	}{
		{`{"sessionId":"a"}`, false, "a"},
		{`{"sessionId":"a","other":1}`, false, "a"},
		{`{"SESSIONID":"x"}`, false, ""}, // not our field: ignored, not folded
		{`{"ſessionId":"x"}`, false, ""},
		{`{"sessionId":"a","sessionId":"b"}`, true, ""},
		{"{\"sessionId\":\"\xff\"}", true, ""},
		{`{"sessionId":"a"`, true, ""},
	} {
		var b body
		err := strictjson.Unmarshal([]byte(tc.in), &b)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && b.SessionID != tc.want {
			t.Errorf("%q: sessionId = %q, want %q", tc.in, b.SessionID, tc.want)
		}
	}
}
