package home

import "testing"

func TestNegotiate(t *testing.T) {
	const chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
	const firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	tests := []struct {
		accept []string
		want   string
	}{
		{nil, mediaJSON},
		{[]string{""}, mediaJSON},
		{[]string{"*/*"}, mediaJSON}, // curl
		{[]string{chrome}, mediaHTML},
		{[]string{firefox}, mediaHTML},
		{[]string{"application/json"}, mediaJSON},
		{[]string{"text/html"}, mediaHTML},
		{[]string{"TEXT/HTML"}, mediaHTML},
		{[]string{"text/*"}, mediaHTML},
		{[]string{"text/html;level=1"}, mediaHTML},
		{[]string{"text/html ; q=0.5"}, mediaHTML},
		{[]string{"application/*, text/html;q=0.9"}, mediaJSON},
		// A tie goes to the first offer, JSON.
		{[]string{"text/html, application/json"}, mediaJSON},
		{[]string{"text/html, application/json;q=0.9"}, mediaHTML},
		// q=0 is "not acceptable".
		{[]string{"text/html;q=0, */*"}, mediaJSON},
		{[]string{"text/html;q=0"}, mediaJSON},
		{[]string{"application/json;q=0, text/html;q=0.1"}, mediaHTML},
		// The most specific range decides, whatever its weight.
		{[]string{"*/*;q=0.1, text/html;q=0.05"}, mediaJSON},
		{[]string{"text/html;q=0.1, */*"}, mediaJSON},
		{[]string{"*/*;q=0.1, text/html"}, mediaHTML},
		// Accept can come in several header lines.
		{[]string{"application/json;q=0.5", "text/html"}, mediaHTML},
		// Nothing acceptable: the default rather than 406.
		{[]string{"image/png"}, mediaJSON},
		// Elements that do not parse are left out.
		{[]string{"text/html;q=abc"}, mediaJSON},
		{[]string{"text/html;q=2"}, mediaJSON},
		{[]string{"*/html"}, mediaJSON},
		{[]string{"html"}, mediaJSON},
		{[]string{",,text/html,"}, mediaHTML},
	}
	for _, tt := range tests {
		if got := negotiate(tt.accept, mediaJSON, mediaHTML); got != tt.want {
			t.Errorf("negotiate(%q) = %q; want %q", tt.accept, got, tt.want)
		}
	}
}
