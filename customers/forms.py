from django import forms


class CustomerSearchForm(forms.Form):
    q = forms.CharField(label="Search customers", required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": "Customer name…", "autocomplete": "off"}
        )

    def search(self) -> str:
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get("q", "").replace("\x00", "").strip()
